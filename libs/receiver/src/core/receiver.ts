import {
  RECEIVER_BASE_BRAND,
  WebhookReceiverBase,
  type AnyWebhookEventHandler as BaseAnyWebhookEventHandler,
  type ReceiveOutcome as BaseReceiveOutcome,
  type WebhookEventHandler as BaseWebhookEventHandler,
  type WebhookReceiverOptions,
  type WebhookRouteErrorHandler as BaseWebhookRouteErrorHandler,
  type WebhookRouter as BaseWebhookRouter,
  type WebhookToHandle as BaseWebhookToHandle,
} from './receiver-base.js';
import type { HeadersInput, RawBody, WebVerifiedWebhook, WebhookEventType } from './types.js';
import { VerifiedWebhook, WebhookVerifier } from './verify.js';

export { WebhookReceiverBase, isWebhookReceiver, type ReceiverOptions, type WebhookReceiverOptions, type WebhookResponse } from './receiver-base.js';

// The Node receiver's handlers see its `VerifiedWebhook` (raw body as a Buffer, lazy decode).
export type WebhookToHandle<W extends WebVerifiedWebhook = VerifiedWebhook> = BaseWebhookToHandle<W>;
export type ReceiveOutcome<W extends WebVerifiedWebhook = VerifiedWebhook> = BaseReceiveOutcome<W>;
export type WebhookEventHandler<E extends WebhookEventType, W extends WebVerifiedWebhook = VerifiedWebhook> = BaseWebhookEventHandler<E, W>;
export type AnyWebhookEventHandler<W extends WebVerifiedWebhook = VerifiedWebhook> = BaseAnyWebhookEventHandler<W>;
export type WebhookRouteErrorHandler<W extends WebVerifiedWebhook = VerifiedWebhook> = BaseWebhookRouteErrorHandler<W>;
export type WebhookRouter<W extends WebVerifiedWebhook = VerifiedWebhook> = BaseWebhookRouter<W>;

/**
 * Marks the Node receivers across the package's two builds (ESM and CommonJS): the Express, Fastify
 * and NestJS adapters need this one (synchronous verification, `VerifiedWebhook`), not any receiver.
 */
const RECEIVER_BRAND = Symbol.for('@apifycloud/webhook-receiver/WebhookReceiver');

/**
 * Verification with `node:crypto` plus idempotency and routing (`WebhookReceiverBase`): what the
 * Express, Fastify and NestJS adapters use, and the `/web` handler on Node.
 */
export class WebhookReceiver extends WebhookReceiverBase<VerifiedWebhook> {
  readonly [RECEIVER_BRAND] = true;
  readonly verifier: WebhookVerifier;

  constructor(options: WebhookReceiverOptions) {
    super(options);
    this.verifier = new WebhookVerifier(options);
  }

  get maxBodyBytes(): number {
    return this.verifier.options.maxBodyBytes;
  }

  /** Verification and full decode, so a handler never meets a body it cannot read. Synchronous; throws `WebhookError`. */
  verify(rawBody: RawBody, headers: HeadersInput): VerifiedWebhook {
    const webhook = this.verifier.verify(rawBody, headers);
    void webhook.event;
    return webhook;
  }
}

function isNodeReceiver(value: unknown): value is WebhookReceiver {
  return value instanceof WebhookReceiver || (typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[RECEIVER_BRAND] === true);
}

/**
 * Accepts options or an existing receiver (to share one store and configuration across routes), from
 * either build. A `WebCryptoWebhookReceiver` is refused: these adapters verify synchronously.
 */
export function createWebhookReceiver(options: WebhookReceiverOptions | WebhookReceiver): WebhookReceiver {
  if (isNodeReceiver(options)) return options;
  if ((options as unknown as Record<symbol, unknown> | null)?.[RECEIVER_BASE_BRAND] === true) {
    throw new TypeError(
      "@apifycloud/webhook-receiver: the Express, Fastify and NestJS adapters need a WebhookReceiver from '@apifycloud/webhook-receiver' " +
        "(node:crypto, synchronous verification); a WebCryptoWebhookReceiver only works with createWebhookHandler from '@apifycloud/webhook-receiver/web'.",
    );
  }
  return new WebhookReceiver(options);
}
