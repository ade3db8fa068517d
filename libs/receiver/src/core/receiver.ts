import { Defaults, WEBHOOK_EVENT_TYPES } from './constants.js';

const WEBHOOK_EVENT_TYPE_SET: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);
import { WebhookError, isWebhookError } from './errors.js';
import type { ApifyCloudWebhookEvent, HeadersInput, RawBody, WebhookEventOf, WebhookEventType } from './types.js';
import { VerifiedWebhook, WebhookVerifier, type VerifyOptions } from './verify.js';
import { MemoryIdempotencyStore } from '../idempotency/memory-store.js';
import type { IdempotencyStore } from '../idempotency/store.js';

export interface WebhookReceiverOptions extends VerifyOptions {
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
export interface WebhookToHandle {
  action: 'handle';
  webhook: VerifiedWebhook;
  /**
   * Completes (2xx) or releases the claim. Call it when the handler has settled, not when the
   * connection closes: until then the claim is extended, so retries get 409 however long it runs.
   */
  settle(succeeded: boolean): Promise<void>;
}

export type ReceiveOutcome = WebhookResponse | WebhookToHandle;

/** A route for one event type: `event` is narrowed to it (status and the timestamp it sets). */
export type WebhookEventHandler<E extends WebhookEventType> = (event: WebhookEventOf<E>, webhook: VerifiedWebhook) => unknown;
/** Runs for every event, after the routes of its type. */
export type AnyWebhookEventHandler = (event: ApifyCloudWebhookEvent, webhook: VerifiedWebhook) => unknown;
/** Sees a route's failure before it fails the delivery (the key is released and the platform retries). */
export type WebhookRouteErrorHandler = (error: unknown, event: ApifyCloudWebhookEvent, webhook: VerifiedWebhook) => unknown;
/** The receiver's routes as a handler: pass it to `createWebhookHandler`, the Fastify plugin, or call it yourself. */
export type WebhookRouter = (webhook: VerifiedWebhook) => Promise<void>;

const NO_SETTLE = async (): Promise<void> => {};

class StoreTimeoutError extends Error {
  override readonly name = 'StoreTimeoutError';
}

/** Rejects with `StoreTimeoutError` once `ms` pass; the timer never keeps the process alive. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  if (!(ms > 0) || ms === Infinity) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StoreTimeoutError(`The idempotency store did not ${what} within ${ms} ms.`)), ms);
    timer.unref?.();
    promise.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (error: unknown) => { clearTimeout(timer); reject(error); },
    );
  });
}

function defaultOnError(error: unknown, context: { phase: string; idempotencyKey?: string }): void {
  console.error(`[@apifycloud/webhook-receiver] ${context.phase}${context.idempotencyKey ? ` ${context.idempotencyKey}` : ''}:`, error);
}

/**
 * Marks receivers across the package's two builds: a receiver made by the ESM build and handed to
 * an adapter loaded with require() is not `instanceof` the CommonJS class, and was read as an
 * options object with no secret. A registered symbol is the same in both.
 */
const RECEIVER_BRAND = Symbol.for('@apifycloud/webhook-receiver/WebhookReceiver');

/**
 * Verification plus idempotency, independent of any framework: every adapter is a thin mapping of
 * this onto its request and response objects, so they all behave the same.
 */
export class WebhookReceiver {
  readonly [RECEIVER_BRAND] = true;
  readonly verifier: WebhookVerifier;
  readonly store: IdempotencyStore | undefined;
  readonly #completedTtlMs: number;
  readonly #inFlightTtlMs: number;
  readonly #storeTimeoutMs: number;
  readonly #failOpen: boolean;
  readonly #acknowledgeUnknown: boolean;
  readonly #onError: NonNullable<WebhookReceiverOptions['onError']>;

  constructor(options: WebhookReceiverOptions) {
    this.verifier = new WebhookVerifier(options);
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

  readonly #routes = new Map<WebhookEventType, Array<WebhookEventHandler<WebhookEventType>>>();
  readonly #anyRoutes: AnyWebhookEventHandler[] = [];
  readonly #routeErrorHandlers: WebhookRouteErrorHandler[] = [];

  /** Routes `type` events to `handler` (several run in the order added). Returns the receiver, for chaining. */
  on<E extends WebhookEventType>(type: E, handler: WebhookEventHandler<E>): this {
    if (typeof handler !== 'function') throw new TypeError(`receiver.on('${String(type)}', handler) needs a function.`);
    if (!WEBHOOK_EVENT_TYPE_SET.has(type)) throw new TypeError(`receiver.on(): unknown event type "${String(type)}".`);
    const list = this.#routes.get(type) ?? [];
    list.push(handler as unknown as WebhookEventHandler<WebhookEventType>);
    this.#routes.set(type, list);
    return this;
  }

  /** Runs `handler` for every event, after the routes of its type. */
  onAny(handler: AnyWebhookEventHandler): this {
    if (typeof handler !== 'function') throw new TypeError('receiver.onAny(handler) needs a function.');
    this.#anyRoutes.push(handler);
    return this;
  }

  /**
   * Called when a route throws, before the delivery fails: the error still fails it (non-2xx, the
   * key is released and the platform retries), so this is for logging and alerting.
   */
  onError(handler: WebhookRouteErrorHandler): this {
    if (typeof handler !== 'function') throw new TypeError('receiver.onError(handler) needs a function.');
    this.#routeErrorHandlers.push(handler);
    return this;
  }

  /** Runs the routes of a verified webhook in order; rejects with the first route's error (after `onError`). */
  async dispatch(webhook: VerifiedWebhook): Promise<void> {
    const event = webhook.event;
    try {
      const routes = this.#routes.get(event.event);
      if (routes !== undefined) for (const route of routes) await route(event as WebhookEventOf<WebhookEventType>, webhook);
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
  router(): WebhookRouter {
    return (webhook) => this.dispatch(webhook);
  }

  get maxBodyBytes(): number {
    return this.verifier.options.maxBodyBytes;
  }

  /** Verifies and decodes, then claims the idempotency key. Never throws: failures become a response. */
  receive(rawBody: RawBody, headers: HeadersInput): Promise<ReceiveOutcome> {
    let webhook: VerifiedWebhook;
    try {
      webhook = this.verify(rawBody, headers);
    } catch (error) {
      return Promise.resolve(this.reject(error));
    }
    return this.claim(webhook);
  }

  /** Verification and full decode, so a handler never meets a body it cannot read. Throws `WebhookError`. */
  verify(rawBody: RawBody, headers: HeadersInput): VerifiedWebhook {
    const webhook = this.verifier.verify(rawBody, headers);
    void webhook.event;
    return webhook;
  }

  /** Claims the key of an already verified webhook (the key is never claimed for an unverified request). */
  async claim(webhook: VerifiedWebhook): Promise<ReceiveOutcome> {
    const store = this.store;
    if (store === undefined) return { action: 'handle', webhook, settle: NO_SETTLE };
    const key = webhook.idempotencyKey;
    const ttl = this.#inFlightTtlMs;
    let claim;
    const pending = store.claim(key, ttl);
    try {
      claim = await withTimeout(pending, this.#storeTimeoutMs, 'claim the key');
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
      const retryAfterMs = claim.retryAfterMs ?? ttl;
      return this.reject(new WebhookError('delivery_in_progress', `Event ${webhook.eventId} is already being processed.`), {
        'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
      });
    }
    const token = claim.token;
    let settled = false;
    // Keeps the claim alive for as long as the handler runs, however long that is (even after the
    // platform gave up waiting); a crashed process stops extending, so its claim expires one TTL later.
    let extender: ReturnType<typeof setInterval> | undefined;
    if (typeof store.extend === 'function') {
      extender = setInterval(() => {
        withTimeout(store.extend!(key, token, ttl), this.#storeTimeoutMs, 'extend the claim').catch((error: unknown) => {
          this.#onError(error, { phase: 'claim', idempotencyKey: key });
        });
      }, Math.max(1, Math.floor(ttl / 3)));
      extender.unref?.();
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
          if (succeeded) await withTimeout(store.complete(key, token, this.#completedTtlMs), this.#storeTimeoutMs, 'complete the key');
          else await withTimeout(store.release(key, token), this.#storeTimeoutMs, 'release the key');
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
  #releaseLateClaim(store: IdempotencyStore, key: string, pending: Promise<Awaited<ReturnType<IdempotencyStore['claim']>>>): void {
    pending.then(
      (late) => (late.state === 'claimed' ? store.release(key, late.token) : undefined),
      () => undefined,
    ).catch((error: unknown) => this.#onError(error, { phase: 'release', idempotencyKey: key }));
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

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0)) throw new TypeError(`@apifycloud/webhook-receiver: ${name} must be a positive number.`);
  return value;
}


function isReceiver(value: unknown): value is WebhookReceiver {
  return value instanceof WebhookReceiver || (typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[RECEIVER_BRAND] === true);
}

/** Accepts options or an existing receiver (to share one store and configuration across routes), from either build. */
export function createWebhookReceiver(options: WebhookReceiverOptions | WebhookReceiver): WebhookReceiver {
  return isReceiver(options) ? options : new WebhookReceiver(options as WebhookReceiverOptions);
}
