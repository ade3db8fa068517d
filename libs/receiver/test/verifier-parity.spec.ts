import { WebhookReceiver } from '../src/core/receiver.js';
import { WebCryptoWebhookVerifier } from '../src/web/webcrypto-verify.js';
import { generateWebhookSecret, signBody, signWebhook, type SignedWebhook } from '../src/testing/index.js';
import type { WebhookEventType } from '../src/core/types.js';

/**
 * The Node verifier (`WebhookReceiver.verify`: node:crypto, byte scan, lazy decode) and the WebCrypto
 * one (`WebCryptoWebhookVerifier`, what `/web` uses off Node) given the same signed bytes must answer
 * the same: same success, same error code, same message. Shapes the helper never produces are signed
 * here as the platform would sign them.
 */
const secret = generateWebhookSecret();
const node = new WebhookReceiver({ secret, idempotency: false });
const webCrypto = new WebCryptoWebhookVerifier({ secret });

type Mutation = (event: Record<string, any>) => void;

function signed(mutate: Mutation, event: WebhookEventType = 'scheduled.created'): { body: string; headers: Record<string, string> } {
  const d: SignedWebhook<WebhookEventType> = signWebhook({ secret, event });
  const parsed = JSON.parse(d.body) as Record<string, any>;
  mutate(parsed);
  const body = JSON.stringify(parsed);
  return { body, headers: { ...d.headers, 'X-ApifyCloud-Signature': signBody(body, secret) } };
}

/** The helper's delivery with its JSON text edited (for what JSON.stringify cannot write), signed again. */
function edited(edit: (body: string) => string): { body: string; headers: Record<string, string> } {
  const d = signWebhook({ secret });
  const body = edit(d.body);
  return { body, headers: { ...d.headers, 'X-ApifyCloud-Signature': signBody(body, secret) } };
}

type Answer = { ok: true; id: string } | { ok: false; code: unknown; message: unknown };

async function answer(verify: () => { event: { id: string } } | Promise<{ event: { id: string } }>): Promise<Answer> {
  try {
    return { ok: true, id: (await verify()).event.id };
  } catch (error) {
    return { ok: false, code: (error as { code?: unknown }).code, message: (error as Error).message };
  }
}

const CASES: Array<[string, { body: string; headers: Record<string, string> }]> = [
  ['a well-formed delivery', signed(() => undefined)],
  [
    'a record without an agent and with a field added later',
    signed((e) => {
      e.payload.scheduled_call.agent = null;
      e.payload.scheduled_call.added_later = 1;
    }),
  ],
  [
    'scheduled_call is an array',
    signed((e) => {
      e.payload.scheduled_call = [];
    }),
  ],
  [
    'scheduled_call is a string',
    signed((e) => {
      e.payload.scheduled_call = 'call';
    }),
  ],
  [
    'scheduled_call is null',
    signed((e) => {
      e.payload.scheduled_call = null;
    }),
  ],
  [
    'there is no payload',
    signed((e) => {
      delete e.payload;
    }),
  ],
  [
    'the payload is an array',
    signed((e) => {
      e.payload = [e.payload];
    }),
  ],
  [
    'the record has no id',
    signed((e) => {
      delete e.payload.scheduled_call.id;
    }),
  ],
  [
    'version is a string',
    signed((e) => {
      e.payload.scheduled_call.version = '3';
    }),
  ],
  ['duration_minutes is not finite', edited((body) => body.replace('"duration_minutes":30', '"duration_minutes":1e999'))],
  [
    'the guest has no email',
    signed((e) => {
      delete e.payload.scheduled_call.guest.email;
    }),
  ],
  [
    'the guest is null',
    signed((e) => {
      e.payload.scheduled_call.guest = null;
    }),
  ],
  [
    'the agent is a string',
    signed((e) => {
      e.payload.scheduled_call.agent = 'agent-7';
    }),
  ],
  [
    'the agent has no id',
    signed((e) => {
      delete e.payload.scheduled_call.agent.id;
    }),
  ],
  [
    'metadata is an array',
    signed((e) => {
      e.payload.scheduled_call.metadata = [];
    }),
  ],
  [
    'reschedule_reason is missing',
    signed((e) => {
      delete e.payload.scheduled_call.reschedule_reason;
    }),
  ],
  [
    'the status is not one the event leaves',
    signed((e) => {
      e.payload.scheduled_call.status = 'confirmed';
    }, 'scheduled.cancelled'),
  ],
  [
    'the status is unknown',
    signed((e) => {
      e.payload.scheduled_call.status = 'archived';
    }),
  ],
  [
    "the event's timestamp is null",
    signed((e) => {
      e.payload.scheduled_call.cancelled_at = null;
    }, 'scheduled.cancelled'),
  ],
  [
    "the event's timestamp is missing",
    signed((e) => {
      delete e.payload.scheduled_call.no_show_at;
    }, 'scheduled.no_show'),
  ],
  [
    'subscription_id is a number',
    signed((e) => {
      e.subscription_id = 42;
    }),
  ],
  [
    'attempt is a string',
    signed((e) => {
      e.attempt = '1';
    }),
  ],
  [
    'attempt is true',
    signed((e) => {
      e.attempt = true;
    }),
  ],
  [
    'attempt is null',
    signed((e) => {
      e.attempt = null;
    }),
  ],
  [
    'attempt is 0',
    signed((e) => {
      e.attempt = 0;
    }),
  ],
  [
    'there is no id',
    signed((e) => {
      delete e.id;
    }),
  ],
  [
    'deliveredAt is not a timestamp',
    signed((e) => {
      e.deliveredAt = 'yesterday';
    }),
  ],
  ['the body is not JSON', edited((body) => body.slice(0, -1))],
];

describe('WebCrypto and Node verifiers on the same signed bytes', () => {
  it.each(CASES)('answer the same when %s', async (_name, delivery) => {
    const fromNode = await answer(() => node.verify(delivery.body, delivery.headers));
    const fromWebCrypto = await answer(() => webCrypto.verify(delivery.body, new Headers(delivery.headers)));

    expect(fromWebCrypto).toEqual(fromNode);
  });

  it('reject every wrong shape above with 400 invalid_payload (not a crash, not a 500)', async () => {
    const shapes = CASES.filter(([name]) => !/well-formed|added later|attempt|there is no id|deliveredAt|not JSON/.test(name));
    const answers = await Promise.all(shapes.map(async ([name, d]) => [name, await answer(() => webCrypto.verify(d.body, d.headers))] as const));

    expect(shapes.length).toBeGreaterThanOrEqual(18);
    expect(answers.map(([name, a]) => [name, a.ok ? 'ok' : a.code])).toEqual(shapes.map(([name]) => [name, 'invalid_payload']));
  });
});
