import { createHmac } from 'node:crypto';

/**
 * The wire format of SPEC §3, defined once: the worker builds every request with it, and the API
 * rebuilds an attempt's body with it from the event's stored payload (the attempt log keeps the
 * headers sent, not a second copy of the body), so the two cannot differ by a byte.
 */
export const USER_AGENT = 'ApifyCloud-Webhooks/1.0';

/** What the body is made of: everything but the secret. */
export interface WebhookEnvelope {
  subscriptionId: string;
  eventId: string;
  event: string;
  attempt: number;
  /** The event payload exactly as stored (`{"scheduled_call":{…}}`). */
  payloadJson: string;
  /** A test send (`POST …/test`): the body says so with `"test":true`; nothing else differs. */
  test?: boolean;
}

export interface OutgoingWebhook extends WebhookEnvelope {
  url: string;
  secret: string;
  previousSecret: string | null;
}

/** The signed body of one attempt: the exact bytes sent, `deliveredAt` inside them. */
export function buildWebhookBody(envelope: WebhookEnvelope, deliveredAt: Date): string {
  const test = envelope.test ? ',"test":true' : '';
  return `{"id":${JSON.stringify(envelope.eventId)},"subscription_id":${JSON.stringify(envelope.subscriptionId)},"event":${JSON.stringify(envelope.event)},"deliveredAt":"${deliveredAt.toISOString()}","attempt":${envelope.attempt}${test},"payload":${envelope.payloadJson}}`;
}

/** The body is built once and the signature covers exactly its bytes. */
export function buildRequest(webhook: OutgoingWebhook, deliveredAt: Date): { body: string; headers: Record<string, string> } {
  const body = buildWebhookBody(webhook, deliveredAt);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'accept-encoding': 'identity',
    'x-apifycloud-signature': `sha256=${sign(webhook.secret, body)}`,
    'x-apifycloud-event': webhook.event,
    'x-apifycloud-delivery': `${webhook.subscriptionId}:${webhook.attempt}`,
    'x-apifycloud-timestamp': deliveredAt.toISOString(),
    'x-apifycloud-event-id': webhook.eventId,
  };
  if (webhook.previousSecret) headers['x-apifycloud-signature-previous'] = `sha256=${sign(webhook.previousSecret, body)}`;
  return { body, headers };
}

function sign(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** The header that carries `deliveredAt`: the API reads it back from the stored headers to rebuild the body. */
export const TIMESTAMP_HEADER = 'x-apifycloud-timestamp';
