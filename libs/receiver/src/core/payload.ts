import { WebhookError } from './errors.js';
import { SCHEDULED_CALL_AGENT_REQUIRED, SCHEDULED_CALL_GUEST_REQUIRED, SCHEDULED_CALL_REQUIRED, STATUSES_AFTER_EVENT } from './generated/scheduled-call.js';
import type { ApifyCloudWebhookEvent, FieldsSetByEvent, WebhookEventType } from './types.js';

/** The field each event guarantees to be set (the runtime side of `FieldsSetByEvent`). */
const SET_BY_EVENT: { readonly [E in WebhookEventType]: keyof FieldsSetByEvent[E] | undefined } = {
  'scheduled.created': undefined,
  'scheduled.confirmed': 'confirmed_at',
  'scheduled.rescheduled': 'previous_scheduled_at',
  'scheduled.cancelled': 'cancelled_at',
  'scheduled.no_show': 'no_show_at',
};

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

const KIND_BITS: Readonly<Record<string, number>> = { string: 1, number: 2, boolean: 4, object: 8, null: 16, array: 32 };

function kindBit(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 1;
    case 'number':
      return Number.isFinite(value) ? 2 : 0;
    case 'boolean':
      return 4;
    case 'object':
      return value === null ? 16 : Array.isArray(value) ? 32 : 8;
    default:
      return 0;
  }
}

interface FieldCheck {
  key: string;
  allowed: number;
  expected: string;
}

/** The generated `[field, 'string|null']` tables as bit masks, built once: a check is one AND per field. */
function compile(required: ReadonlyArray<readonly [string, string]>): readonly FieldCheck[] {
  return required.map(([key, kinds]) => ({
    key,
    allowed: kinds.split('|').reduce((mask, kind) => mask | (KIND_BITS[kind] ?? 0), 0),
    expected: kinds.replace('|', ' or '),
  }));
}

const CALL_CHECKS = compile(SCHEDULED_CALL_REQUIRED);
const GUEST_CHECKS = compile(SCHEDULED_CALL_GUEST_REQUIRED);
const AGENT_CHECKS = compile(SCHEDULED_CALL_AGENT_REQUIRED);

function checkFields(path: string, value: Record<string, unknown>, checks: readonly FieldCheck[]): void {
  for (let i = 0; i < checks.length; i++) {
    const check = checks[i]!;
    const field = value[check.key];
    if ((kindBit(field) & check.allowed) === 0) {
      throw new WebhookError(
        'invalid_payload',
        field === undefined ? `${path}.${check.key} is missing.` : `${path}.${check.key} must be ${check.expected}, got ${kindOf(field)}.`,
      );
    }
  }
}

/**
 * Checks `payload.scheduled_call` against the required fields of the platform's schema (the
 * generated tables), the statuses the event may leave and the timestamp the event sets. Cheap:
 * one pass over about twenty fields. Throws `WebhookError('invalid_payload')` (400).
 */
export function assertScheduledCall(event: WebhookEventType, call: unknown): void {
  const path = 'payload.scheduled_call';
  if (typeof call !== 'object' || call === null || Array.isArray(call)) {
    throw new WebhookError('invalid_payload', `${path} must be an object, got ${kindOf(call)}.`);
  }
  const record = call as Record<string, unknown>;
  checkFields(path, record, CALL_CHECKS);
  checkFields(`${path}.guest`, record.guest as Record<string, unknown>, GUEST_CHECKS);
  if (record.agent !== null) checkFields(`${path}.agent`, record.agent as Record<string, unknown>, AGENT_CHECKS);
  const statuses = STATUSES_AFTER_EVENT[event] as readonly string[] | undefined;
  if (statuses !== undefined && !statuses.includes(record.status as string)) {
    throw new WebhookError('invalid_payload', `${path}.status "${String(record.status)}" is not one a ${event} event leaves (${statuses.join(', ')}).`);
  }
  const set = SET_BY_EVENT[event] as string | undefined;
  if (set !== undefined && typeof record[set] !== 'string') {
    throw new WebhookError('invalid_payload', `${path}.${set} must be set on a ${event} event.`);
  }
}

/** What verification read from the signed bytes before the full decode (both verifiers fill it in). */
export interface SignedEnvelopeFields {
  eventId: string;
  eventType: WebhookEventType;
  attempt: number;
  deliveredAtMs: number;
  subscriptionId: string;
  subscriptionIdSource: 'body' | 'header';
}

/**
 * The checks of a fully decoded body, shared by the Node verifier (`VerifiedWebhook.event`) and the
 * WebCrypto one, so the same signed body gets the same answer on every runtime: a
 * `payload.scheduled_call` object, the top-level fields as verification read them (the Node
 * verifier reads them from the bytes before `JSON.parse`, so a key given twice cannot make the two
 * readings disagree), no `subscription_id` beside a subscription taken from the header, and the
 * record's shape (`assertScheduledCall`). Throws `WebhookError('invalid_payload')`.
 */
export function assertDecodedEnvelope(parsed: unknown, signed: SignedEnvelopeFields): asserts parsed is ApifyCloudWebhookEvent {
  const body = parsed as Partial<ApifyCloudWebhookEvent> | null;
  const payload = body?.payload as { scheduled_call?: unknown } | undefined;
  if (
    typeof body !== 'object' ||
    body === null ||
    Array.isArray(body) ||
    typeof payload !== 'object' ||
    payload === null ||
    typeof payload.scheduled_call !== 'object' ||
    payload.scheduled_call === null
  ) {
    throw new WebhookError('invalid_payload', 'The signed body has no payload.scheduled_call object.');
  }
  if (
    body.id !== signed.eventId ||
    body.event !== signed.eventType ||
    body.attempt !== signed.attempt ||
    typeof body.deliveredAt !== 'string' ||
    Date.parse(body.deliveredAt) !== signed.deliveredAtMs ||
    (signed.subscriptionIdSource === 'body' ? body.subscription_id !== signed.subscriptionId : body.subscription_id !== undefined)
  ) {
    throw new WebhookError('invalid_payload', 'The signed body repeats a top-level field with different values.');
  }
  assertScheduledCall(signed.eventType, payload.scheduled_call);
}
