/**
 * The Fetch API adapter, written once for both builds of `/web`: `index.ts` (WebCrypto, any runtime)
 * and `node.ts` (Node, `node:crypto`) differ only in the receiver `defineWebApi` is given, so their
 * public types are the same by construction. No `node:` import and no `Buffer` here.
 */
import { WebhookError } from '../core/errors.js';
import { isWebhookReceiver, type WebhookReceiverBase, type WebhookReceiverOptions } from '../core/receiver-base.js';
import type { WebVerifiedWebhook } from '../core/types.js';

const WEB_RAW_BODY_HINT =
  'The Request body was already read (request.json() or request.text() ran first). Pass the untouched Request, or request.clone() before reading it.';

const EMPTY = new Uint8Array(0);

/** Reads a Fetch API `Request` body as bytes, refusing more than `maxBodyBytes` without buffering it all. */
export async function readRequestBody(request: Request, maxBodyBytes: number): Promise<Uint8Array> {
  if (request.bodyUsed) throw new WebhookError('raw_body_unavailable', 'The request body was already consumed.', { hint: WEB_RAW_BODY_HINT });
  const declared = Number(request.headers.get('content-length'));
  if (declared > maxBodyBytes) throw new WebhookError('payload_too_large', `Content-Length ${declared} exceeds the limit of ${maxBodyBytes} bytes.`);
  if (request.body === null) return EMPTY;
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBodyBytes) {
      await reader.cancel().catch(() => undefined);
      throw new WebhookError('payload_too_large', `The body exceeds the limit of ${maxBodyBytes} bytes.`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Your code for one verified delivery. Return nothing (answers 204) or a `Response`; a non-2xx
 * `Response` or a throw releases the key for the platform's retry.
 */
export type WebHandler<W extends WebVerifiedWebhook = WebVerifiedWebhook> = (webhook: W, request: Request) => Response | void | Promise<Response | void>;

export interface WebWebhookOptions<W extends WebVerifiedWebhook = WebVerifiedWebhook> extends WebhookReceiverOptions {
  /** Return nothing (answers 204) or a `Response`; a non-2xx `Response` or a throw releases the key for the retry. */
  handler: WebHandler<W>;
  /**
   * A receiver shared with other routes or adapters (then the receiver options above are ignored): one
   * from `createWebhookReceiver` (this entry), a `WebCryptoWebhookReceiver`, or on Node a
   * `WebhookReceiver` from the root entry. Its routes run with `handler: receiver.router()`.
   */
  receiver?: WebhookReceiverBase<W>;
}

/** What `createWebhookHandler` returns: a Fetch API handler. */
export type FetchWebhookHandler = (request: Request) => Promise<Response>;

/** The runtime-dependent part of `/web`: the same signatures on every runtime. */
export interface WebApi {
  /**
   * The fastest receiver for this runtime: on Node the `node:crypto` `WebhookReceiver`, elsewhere a
   * `WebCryptoWebhookReceiver`. Register routes on it (`.on()`, `.onAny()`, `.onError()`) and pass it
   * to `createWebhookHandler({ receiver, handler: receiver.router() })`. An existing receiver is returned as is.
   */
  createWebhookReceiver: {
    <W extends WebVerifiedWebhook>(receiver: WebhookReceiverBase<W>): WebhookReceiverBase<W>;
    (options: WebhookReceiverOptions): WebhookReceiverBase<WebVerifiedWebhook>;
  };
  /**
   * A `(request: Request) => Promise<Response>` for Next.js route handlers, Cloudflare Workers, Vercel
   * Edge, Bun, Deno, Hono and anything else speaking the Fetch API: verification, idempotency (the
   * claim settles when `handler` settles) and the package's error answers.
   */
  createWebhookHandler: {
    <W extends WebVerifiedWebhook>(options: WebWebhookOptions<W> & { receiver: WebhookReceiverBase<W> }): FetchWebhookHandler;
    (options: WebWebhookOptions): FetchWebhookHandler;
  };
  /** Verifies a Fetch API `Request` (signature, replay window, envelope, payload shape). Rejects with `WebhookError`. No idempotency. */
  verifyWebhookRequest: {
    <W extends WebVerifiedWebhook>(request: Request, receiver: WebhookReceiverBase<W>): Promise<W>;
    (request: Request, options: WebhookReceiverOptions): Promise<WebVerifiedWebhook>;
  };
}

function json(status: number, headers: Record<string, string>, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...headers, 'content-type': 'application/json; charset=utf-8' } });
}

async function handle<W extends WebVerifiedWebhook>(receiver: WebhookReceiverBase<W>, handler: WebHandler<W>, request: Request): Promise<Response> {
  let body: Uint8Array;
  try {
    body = await readRequestBody(request, receiver.maxBodyBytes);
  } catch (error) {
    const rejected = receiver.reject(error);
    return json(rejected.status, rejected.headers, rejected.body);
  }
  const outcome = await receiver.receive(body, request.headers);
  if (outcome.action === 'respond') return json(outcome.status, outcome.headers, outcome.body);
  let response: Response | void;
  try {
    response = await handler(outcome.webhook, request);
  } catch (error) {
    await outcome.settle(false);
    throw error;
  }
  const answer = response ?? new Response(null, { status: 204 });
  await outcome.settle(answer.status >= 200 && answer.status < 300);
  return answer;
}

type AnyReceiver = WebhookReceiverBase<WebVerifiedWebhook>;

/** Builds `/web`'s runtime-dependent functions around `makeReceiver`, the receiver used when none is passed. */
export function defineWebApi(makeReceiver: (options: WebhookReceiverOptions) => AnyReceiver): WebApi {
  const createWebhookReceiver = (options: WebhookReceiverOptions | AnyReceiver): AnyReceiver => (isWebhookReceiver(options) ? options : makeReceiver(options));
  // verifyWebhookRequest(request, options) with one options object (a module constant) prepares its keys once.
  const verifiers = new WeakMap<WebhookReceiverOptions, AnyReceiver>();
  return {
    createWebhookReceiver: createWebhookReceiver,
    createWebhookHandler: (options: WebWebhookOptions) => {
      const { handler, receiver: shared, ...receiverOptions } = options;
      if (typeof handler !== 'function') throw new TypeError('createWebhookHandler needs a `handler(webhook, request)` option.');
      const receiver = createWebhookReceiver(shared ?? receiverOptions);
      return (request: Request) => handle(receiver, handler, request);
    },
    verifyWebhookRequest: async (request: Request, options: WebhookReceiverOptions | AnyReceiver) => {
      let receiver = isWebhookReceiver(options) ? options : verifiers.get(options);
      if (receiver === undefined) {
        receiver = makeReceiver({ ...(options as WebhookReceiverOptions), idempotency: false });
        verifiers.set(options as WebhookReceiverOptions, receiver);
      }
      const body = await readRequestBody(request, receiver.maxBodyBytes);
      return receiver.verify(body, request.headers);
    },
  };
}
