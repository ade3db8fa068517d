/**
 * `@apifycloud/webhook-receiver/web`: the Fetch API adapter and WebCrypto verification.
 *
 * This is the portable build (package.json export conditions `workerd`, `worker`, `edge-light`,
 * `browser`, `deno` and the fallback): no `node:` import and no `Buffer` anywhere in its module graph,
 * so Cloudflare Workers need no `nodejs_compat`. The `node` condition (Node, and Bun, which sets it
 * and has a native `node:crypto`) loads `node.ts` instead: the same exports and types, but a receiver
 * it creates itself verifies with `node:crypto`. Declarations are this file's, for both.
 */
import { defineWebApi, type WebApi } from './fetch.js';
import { WebCryptoWebhookReceiver } from './webcrypto-receiver.js';

const api = defineWebApi((options) => new WebCryptoWebhookReceiver(options));

/**
 * The fastest receiver for this runtime: on Node the `node:crypto` `WebhookReceiver`, elsewhere a
 * `WebCryptoWebhookReceiver`. Register routes on it and hand it to `createWebhookHandler`:
 *
 *   const receiver = createWebhookReceiver({ secret }).on('scheduled.cancelled', async (event) => { ... });
 *   export default { fetch: createWebhookHandler({ receiver, handler: receiver.router() }) };
 *
 * An existing receiver (any build, Node or WebCrypto) is returned as is.
 */
export const createWebhookReceiver: WebApi['createWebhookReceiver'] = api.createWebhookReceiver;

/**
 * A `(request: Request) => Promise<Response>` for Next.js route handlers, Cloudflare Workers, Vercel
 * Edge, Bun, Deno, Hono and anything else speaking the Fetch API: the body read with the size limit,
 * verification, idempotency (the claim settles when `handler` settles: 2xx completes it, a throw or a
 * non-2xx `Response` releases it), and the package's error answers.
 *
 *   export const POST = createWebhookHandler({ secret: process.env.APIFYCLOUD_WEBHOOK_SECRET, handler });
 *
 * Pass `receiver` to share one store, configuration and routes with other handlers or adapters
 * (on Node, a `WebhookReceiver` from the root entry works too).
 */
export const createWebhookHandler: WebApi['createWebhookHandler'] = api.createWebhookHandler;

/**
 * Verifies a Fetch API `Request` (signature, replay window, envelope, payload shape) and resolves with
 * the verified webhook; rejects with `WebhookError`. No idempotency. Reuse one options object (or pass
 * a receiver) so keys are prepared once.
 */
export const verifyWebhookRequest: WebApi['verifyWebhookRequest'] = api.verifyWebhookRequest;

export { readRequestBody, type FetchWebhookHandler, type WebHandler, type WebWebhookOptions, type WebApi } from './fetch.js';
export { WebCryptoWebhookReceiver } from './webcrypto-receiver.js';
export {
  verifyWebhookAsync,
  createWebCryptoVerifier,
  WebCryptoWebhookVerifier,
  type WebCryptoVerifyOptions,
  type WebVerifiedWebhook,
  type WebRawBody,
} from './webcrypto-verify.js';
export {
  WebhookReceiverBase,
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
} from '../core/receiver-base.js';
export { MemoryIdempotencyStore, type MemoryIdempotencyStoreOptions } from '../idempotency/memory-store.js';
export type { IdempotencyStore, ClaimResult } from '../idempotency/store.js';
export { WebhookError, isWebhookError, WEBHOOK_ERROR_STATUS, type WebhookErrorCode } from '../core/errors.js';
export { WebhookHeaders, WEBHOOK_EVENT_TYPES } from '../core/constants.js';
export type { ApifyCloudWebhookEvent, HeadersInput, SignatureMatch, WebhookEventOf, WebhookEventType } from '../core/types.js';
