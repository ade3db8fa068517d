export { WebhookHeaders, WEBHOOK_EVENT_TYPES, Defaults } from './core/constants.js';
export type {
  ApifyCloudWebhookEvent,
  HeadersInput,
  RawBody,
  FieldsSetByEvent,
  ScheduledCall,
  ScheduledCallAfter,
  ScheduledCallAgent,
  ScheduledCallGuest,
  ScheduledCallStatus,
  SignatureMatch,
  StatusAfterEvent,
  WebhookEventOf,
  WebhookEventType,
  WebVerifiedWebhook,
} from './core/types.js';
export { WebhookError, isWebhookError, WEBHOOK_ERROR_STATUS, type WebhookErrorCode } from './core/errors.js';
export { VerifiedWebhook, WebhookVerifier, createWebhookVerifier, verifyWebhook, isKnownEventType, type VerifyOptions } from './core/verify.js';
export {
  WebhookReceiver,
  WebhookReceiverBase,
  createWebhookReceiver,
  isWebhookReceiver,
  type ReceiverOptions,
  type WebhookReceiverOptions,
  type ReceiveOutcome,
  type WebhookResponse,
  type WebhookToHandle,
  type WebhookEventHandler,
  type AnyWebhookEventHandler,
  type WebhookRouteErrorHandler,
  type WebhookRouter,
} from './core/receiver.js';
export type { IdempotencyStore, ClaimResult } from './idempotency/store.js';
export { MemoryIdempotencyStore, type MemoryIdempotencyStoreOptions } from './idempotency/memory-store.js';
export { RedisIdempotencyStore, type RedisIdempotencyStoreOptions, type RedisClientLike } from './idempotency/redis-store.js';
