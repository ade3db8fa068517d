/**
 * Everything a receiver does besides verifying: idempotency claims (timeouts, extension, settling),
 * routing, and mapping failures to answers. Generic over the verified-webhook type, so the Node
 * receiver (`WebhookReceiver`, synchronous `node:crypto` verifier) and the WebCrypto one
 * (`WebCryptoWebhookReceiver`, `/web`) share it and behave the same.
 *
 * No `node:` import and no `Buffer` here or in anything this imports: the `/web` entry loads it on
 * Cloudflare Workers without `nodejs_compat`, Deno and Bun.
 */
import { Defaults, WEBHOOK_EVENT_TYPES } from './constants.js';
import { WebhookError, isWebhookError } from './errors.js';
import type { ApifyCloudWebhookEvent, HeadersInput, RawBody, WebVerifiedWebhook, WebhookEventOf, WebhookEventType } from './types.js';
import type { VerifyOptions } from './verify-options.js';
import { MemoryIdempotencyStore } from '../idempotency/memory-store.js';
import type { ClaimResult, IdempotencyStore } from '../idempotency/store.js';

const WEBHOOK_EVENT_TYPE_SET: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);

/** What a receiver does around verification (idempotency, store failures, unknown events, logging). */
export interface ReceiverOptions {
  /**
   * Where idempotency keys live. Default: a `MemoryIdempotencyStore` for this process.
   * Use `RedisIdempotencyStore` when several instances receive webhooks; `false` turns deduplication off.
   */
  idempotency?: IdempotencyStore | false;
  /** How long a completed key is remembered. Default 7 days (longer than the platform's retry schedule). */
  completedTtlMs?: number;
  /**
   * How long a claim protects a running handler before a retry may take over. Default 5 minutes: the
   * platform's first three attempts of a delivery (10 s timeout, retries immediately and after 5 s)
   * all fall inside it, and a claim left by a crashed process expires before the fourth (5 min later).
   * While the handler runs, the claim is extended every third of this TTL, so a slow handler keeps it.
   */
  inFlightTtlMs?: number;
  /**
   * Longest wait for the store's claim / complete / release. Default 2 s. A store that does not answer
   * in time counts as failed, and `onStoreError` applies.
   */
  storeTimeoutMs?: number;
  /**
   * When the store fails or times out: `fail-closed` (default) answers 503 so the platform retries later;
   * `fail-open` runs the handler without deduplication (your handler must then tolerate duplicates).
   */
  onStoreError?: 'fail-closed' | 'fail-open';
  /**
   * A correctly signed event of a type this version does not know: `acknowledge` (default) answers 202
   * without running the handler, so a new platform event never makes your subscription fail;
   * `reject` answers 422.
   */
  unknownEvents?: 'acknowledge' | 'reject';
  /** Called with failures worth a log line (5xx answers, store errors). Default: `console.error`. */
  onError?: (error: unknown, context: { phase: 'verify' | 'claim' | 'complete' | 'release'; idempotencyKey?: string }) => void;
}

/** The options of every receiver: verification plus what happens around it. */
export interface WebhookReceiverOptions extends VerifyOptions, ReceiverOptions {}

/** What an adapter must answer without calling the application's handler. */
export interface WebhookResponse {
  action: 'respond';
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** Set when the answer is a rejection. */
  error?: WebhookError;
}

/** The application's handler may run; `settle` must be called once with whether it succeeded (a 2xx answer). */
export interface WebhookToHandle<W extends WebVerifiedWebhook = WebVerifiedWebhook> {
  action: 'handle';
  webhook: W;
  /**
   * Completes (2xx) or releases the claim. Call it when the handler has settled, not when the
   * connection closes: until then the claim is extended, so retries get 409 however long it runs.
   */
  settle(succeeded: boolean): Promise<void>;
}

export type ReceiveOutcome<W extends WebVerifiedWebhook = WebVerifiedWebhook> = WebhookResponse | WebhookToHandle<W>;

/** A route for one event type: `event` is narrowed to it (status and the timestamp it sets). */
export type WebhookEventHandler<E extends WebhookEventType, W extends WebVerifiedWebhook = WebVerifiedWebhook> = (
  event: WebhookEventOf<E>,
  webhook: W,
) => unknown;
/** Runs for every event, after the routes of its type. */
export type AnyWebhookEventHandler<W extends WebVerifiedWebhook = WebVerifiedWebhook> = (event: ApifyCloudWebhookEvent, webhook: W) => unknown;
/** Sees a route's failure before it fails the delivery (the key is released and the platform retries). */
export type WebhookRouteErrorHandler<W extends WebVerifiedWebhook = WebVerifiedWebhook> = (
  error: unknown,
  event: ApifyCloudWebhookEvent,
  webhook: W,
) => unknown;
/** The receiver's routes as a handler: pass it to `createWebhookHandler`, the Fastify plugin, or call it yourself. */
export type WebhookRouter<W extends WebVerifiedWebhook = WebVerifiedWebhook> = (webhook: W) => Promise<void>;

const NO_SETTLE = async (): Promise<void> => {};

class StoreTimeoutError extends Error {
  override readonly name = 'StoreTimeoutError';
}

/** Rejects with `StoreTimeoutError` once `ms` pass; the timer never keeps the process alive. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  if (!(ms > 0) || ms === Infinity) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StoreTimeoutError(`The idempotency store did not ${what} within ${ms} ms.`)), ms);
    (timer as { unref?: () => void }).unref?.();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function defaultOnError(error: unknown, context: { phase: string; idempotencyKey?: string }): void {
  console.error(`[@apifycloud/webhook-receiver] ${context.phase}${context.idempotencyKey ? ` ${context.idempotencyKey}` : ''}:`, error);
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0)) throw new TypeError(`@apifycloud/webhook-receiver: ${name} must be a positive number.`);
  return value;
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}

/**
 * Marks every receiver, across the package's builds (ESM and CommonJS, Node and WebCrypto): a
 * receiver made by one build is not `instanceof` the other's class, and was read as an options object
 * with no secret. A registered symbol is the same everywhere.
 */
export const RECEIVER_BASE_BRAND = Symbol.for('@apifycloud/webhook-receiver/WebhookReceiverBase');

/** Whether `value` is a receiver (Node or WebCrypto) from any build of this package. */
export function isWebhookReceiver(value: unknown): value is WebhookReceiverBase<WebVerifiedWebhook> {
  return (
    value instanceof WebhookReceiverBase || (typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[RECEIVER_BASE_BRAND] === true)
  );
}

/**
 * Verification plus idempotency, independent of any framework and of how signatures are checked:
 * every adapter is a thin mapping of this onto its request and response objects, so they all behave
 * the same. Subclasses supply `verify` (synchronous with `node:crypto`, asynchronous with WebCrypto).
 */
export abstract class WebhookReceiverBase<W extends WebVerifiedWebhook = WebVerifiedWebhook> {
  readonly [RECEIVER_BASE_BRAND] = true;
  readonly store: IdempotencyStore | undefined;
  readonly #completedTtlMs: number;
  readonly #inFlightTtlMs: number;
  readonly #storeTimeoutMs: number;
  readonly #failOpen: boolean;
  readonly #acknowledgeUnknown: boolean;
  readonly #onError: NonNullable<ReceiverOptions['onError']>;
  readonly #routes = new Map<WebhookEventType, Array<WebhookEventHandler<WebhookEventType, W>>>();
  readonly #anyRoutes: Array<AnyWebhookEventHandler<W>> = [];
  readonly #routeErrorHandlers: Array<WebhookRouteErrorHandler<W>> = [];

  constructor(options: ReceiverOptions) {
    if (options == null || typeof options !== 'object') throw new TypeError('@apifycloud/webhook-receiver: options with a `secret` are required.');
    this.store = options.idempotency === false ? undefined : (options.idempotency ?? new MemoryIdempotencyStore());
    this.#completedTtlMs = options.completedTtlMs ?? Defaults.completedTtlMs;
    this.#inFlightTtlMs = positive(options.inFlightTtlMs, Defaults.inFlightTtlMs, 'inFlightTtlMs');
    this.#storeTimeoutMs = positive(options.storeTimeoutMs, Defaults.storeTimeoutMs, 'storeTimeoutMs');
    if (options.onStoreError !== undefined && options.onStoreError !== 'fail-closed' && options.onStoreError !== 'fail-open') {
      throw new TypeError('onStoreError must be "fail-closed" or "fail-open".');
    }
    this.#failOpen = options.onStoreError === 'fail-open';
    this.#acknowledgeUnknown = (options.unknownEvents ?? 'acknowledge') === 'acknowledge';
    this.#onError = options.onError ?? defaultOnError;
  }

  /** Largest body accepted (`maxBodyBytes`); adapters stop reading beyond it. */
  abstract get maxBodyBytes(): number;

  /**
   * Verification and full decode (signature, replay window, envelope, headers, payload shape), so a
   * handler never meets a body it cannot read. Throws, or rejects, with `WebhookError`.
   */
  abstract verify(rawBody: RawBody, headers: HeadersInput): W | Promise<W>;

  /** Routes `type` events to `handler` (several run in the order added). Returns the receiver, for chaining. */
  on<E extends WebhookEventType>(type: E, handler: WebhookEventHandler<E, W>): this {
    if (typeof handler !== 'function') throw new TypeError(`receiver.on('${String(type)}', handler) needs a function.`);
    if (!WEBHOOK_EVENT_TYPE_SET.has(type)) throw new TypeError(`receiver.on(): unknown event type "${String(type)}".`);
    const list = this.#routes.get(type) ?? [];
    list.push(handler as unknown as WebhookEventHandler<WebhookEventType, W>);
    this.#routes.set(type, list);
    return this;
  }

  /** Runs `handler` for every event, after the routes of its type. */
  onAny(handler: AnyWebhookEventHandler<W>): this {
    if (typeof handler !== 'function') throw new TypeError('receiver.onAny(handler) needs a function.');
    this.#anyRoutes.push(handler);
    return this;
  }

  /**
   * Called when a route throws, before the delivery fails: the error still fails it (non-2xx, the
   * key is released and the platform retries), so this is for logging and alerting.
   */
  onError(handler: WebhookRouteErrorHandler<W>): this {
    if (typeof handler !== 'function') throw new TypeError('receiver.onError(handler) needs a function.');
    this.#routeErrorHandlers.push(handler);
    return this;
  }

  /** Runs the routes of a verified webhook in order; rejects with the first route's error (after `onError`). */
  async dispatch(webhook: W): Promise<void> {
    const event = webhook.event;
    try {
      const routes = this.#routes.get(event.event);
      if (routes !== undefined) for (const route of routes) await route(event, webhook);
      for (const route of this.#anyRoutes) await route(event, webhook);
    } catch (error) {
      for (const handler of this.#routeErrorHandlers) {
        try {
          await handler(error, event, webhook);
        } catch (secondary) {
          this.#onError(secondary, { phase: 'complete', idempotencyKey: webhook.idempotencyKey });
        }
      }
      throw error;
    }
  }

  /** `dispatch` bound to this receiver: the handler every adapter accepts (`handler: receiver.router()`). */
  router(): WebhookRouter<W> {
    return (webhook) => this.dispatch(webhook);
  }

  /** Verifies and decodes, then claims the idempotency key. Never throws: failures become a response. */
  receive(rawBody: RawBody, headers: HeadersInput): Promise<ReceiveOutcome<W>> {
    let verified: W | PromiseLike<W>;
    try {
      verified = this.verify(rawBody, headers);
    } catch (error) {
      return Promise.resolve(this.reject(error));
    }
    if (isPromiseLike(verified)) {
      return Promise.resolve(verified).then(
        (webhook) => this.claim(webhook),
        (error: unknown) => this.reject(error),
      );
    }
    return this.claim(verified);
  }

  /** Claims the key of an already verified webhook (the key is never claimed for an unverified request). */
  async claim(webhook: W): Promise<ReceiveOutcome<W>> {
    const store = this.store;
    if (store === undefined) return { action: 'handle', webhook, settle: NO_SETTLE };
    const key = webhook.idempotencyKey;
    const ttl = this.#inFlightTtlMs;
    // The memory store answers at once and cannot hang, so it needs no timeout timers; and its claims
    // live and die with this process, so a claim held until the handler settles (what extending it
    // every ttl / 3 amounts to) needs no timer either: it is taken without expiry. That saves three
    // timers and two wrapper promises per delivery on the Express path (about 0.5 µs each, measured
    // alone on the bench machine). Any other store gets the timeouts and the extension timer.
    const local = store instanceof MemoryIdempotencyStore;
    const storeTimeoutMs = local ? Infinity : this.#storeTimeoutMs;
    let claim: ClaimResult;
    const pending = store.claim(key, local ? Infinity : ttl);
    try {
      claim = await withTimeout(pending, storeTimeoutMs, 'claim the key');
    } catch (cause) {
      if (cause instanceof StoreTimeoutError) this.#releaseLateClaim(store, key, pending);
      this.#onError(cause, { phase: 'claim', idempotencyKey: key });
      if (this.#failOpen) return { action: 'handle', webhook, settle: NO_SETTLE };
      return this.reject(new WebhookError('idempotency_store_unavailable', 'The idempotency store failed to claim this delivery.', { cause }));
    }
    if (claim.state === 'completed') {
      return { action: 'respond', status: 200, headers: {}, body: { status: 'duplicate', event_id: webhook.eventId } };
    }
    if (claim.state === 'in_flight') {
      const retryAfterMs = Math.min(claim.retryAfterMs ?? ttl, ttl);
      return this.reject(new WebhookError('delivery_in_progress', `Event ${webhook.eventId} is already being processed.`), {
        'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
      });
    }
    const token = claim.token;
    let settled = false;
    // Keeps the claim alive for as long as the handler runs, however long that is (even after the
    // platform gave up waiting); a crashed process stops extending, so its claim expires one TTL later.
    // One timer per claim, created in the request that holds it: runtimes such as Workers tie a
    // store's I/O to the request that started it.
    let extender: ReturnType<typeof setInterval> | undefined;
    if (!local && typeof store.extend === 'function') {
      extender = setInterval(
        () => {
          withTimeout(store.extend!(key, token, ttl), this.#storeTimeoutMs, 'extend the claim').catch((error: unknown) => {
            this.#onError(error, { phase: 'claim', idempotencyKey: key });
          });
        },
        Math.max(1, Math.floor(ttl / 3)),
      );
      (extender as { unref?: () => void }).unref?.();
    }
    const stopExtending = (): void => {
      if (extender !== undefined) clearInterval(extender);
      extender = undefined;
    };
    return {
      action: 'handle',
      webhook,
      settle: async (succeeded: boolean) => {
        if (settled) return;
        settled = true;
        stopExtending();
        try {
          if (succeeded) await withTimeout(store.complete(key, token, this.#completedTtlMs), storeTimeoutMs, 'complete the key');
          else await withTimeout(store.release(key, token), storeTimeoutMs, 'release the key');
        } catch (error) {
          // A lost `complete` only means a later duplicate may run again once the claim expires;
          // a lost `release` delays the retry until then. Neither loses an event.
          this.#onError(error, { phase: succeeded ? 'complete' : 'release', idempotencyKey: key });
        }
      },
    };
  }

  /**
   * A claim that lands after its timeout would block every retry (409) for a whole TTL although no
   * handler runs for it: give it back as soon as it arrives.
   */
  #releaseLateClaim(store: IdempotencyStore, key: string, pending: Promise<ClaimResult>): void {
    pending
      .then(
        (late) => (late.state === 'claimed' ? store.release(key, late.token) : undefined),
        () => undefined,
      )
      .catch((error: unknown) => this.#onError(error, { phase: 'release', idempotencyKey: key }));
  }

  /** Maps any failure to the answer adapters send. Unknown errors become 500 so the platform retries. */
  reject(error: unknown, headers: Record<string, string> = {}): WebhookResponse {
    if (isWebhookError(error)) {
      if (error.code === 'unknown_event' && this.#acknowledgeUnknown) {
        return { action: 'respond', status: 202, headers, body: { status: 'ignored', reason: 'unknown_event' } };
      }
      if (error.status >= 500) this.#onError(error, { phase: 'verify' });
      return { action: 'respond', status: error.status, headers, body: error.toJSON(), error };
    }
    this.#onError(error, { phase: 'verify' });
    return { action: 'respond', status: 500, headers, body: { error: { code: 'internal_error', message: 'Webhook verification failed unexpectedly.' } } };
  }
}
