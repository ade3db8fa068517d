import { createWebhookReceiver, type WebhookReceiver, type WebhookReceiverOptions } from '../core/receiver.js';
import { WebhookError } from '../core/errors.js';
import type { VerifiedWebhook } from '../core/verify.js';

const WEB_RAW_BODY_HINT =
  'The Request body was already read (request.json() or request.text() ran first). Pass the untouched Request, or request.clone() before reading it.';

/** Reads a Fetch API `Request` body as bytes, refusing more than `maxBodyBytes` without buffering it all. */
export async function readRequestBody(request: Request, maxBodyBytes: number): Promise<Buffer> {
  if (request.bodyUsed) throw new WebhookError('raw_body_unavailable', 'The request body was already consumed.', { hint: WEB_RAW_BODY_HINT });
  const declared = Number(request.headers.get('content-length'));
  if (declared > maxBodyBytes) throw new WebhookError('payload_too_large', `Content-Length ${declared} exceeds the limit of ${maxBodyBytes} bytes.`);
  if (request.body === null) return Buffer.alloc(0);
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
  return Buffer.concat(chunks, size);
}

/** Verifies a Fetch API `Request` (signature, replay window, envelope). Throws `WebhookError`. No idempotency. */
export async function verifyWebhookRequest(request: Request, options: WebhookReceiverOptions | WebhookReceiver): Promise<VerifiedWebhook> {
  const receiver = createWebhookReceiver(options);
  const body = await readRequestBody(request, receiver.maxBodyBytes);
  return receiver.verify(body, request.headers);
}

export type WebHandler = (webhook: VerifiedWebhook, request: Request) => Response | void | Promise<Response | void>;

export interface WebWebhookOptions extends WebhookReceiverOptions {
  /** Return nothing (answers 204) or a `Response`; a non-2xx `Response` or a throw releases the key for the retry. */
  handler: WebHandler;
  receiver?: WebhookReceiver;
}

function json(status: number, headers: Record<string, string>, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...headers, 'content-type': 'application/json; charset=utf-8' } });
}

/**
 * A `(request: Request) => Promise<Response>` for Next.js route handlers, edge runtimes, Bun, Deno,
 * Hono and anything else speaking the Fetch API.
 *
 *   export const POST = createWebhookHandler({ secret: process.env.APIFYCLOUD_WEBHOOK_SECRET, handler });
 */
export function createWebhookHandler(options: WebWebhookOptions): (request: Request) => Promise<Response> {
  const { handler, receiver: shared, ...receiverOptions } = options;
  if (typeof handler !== 'function') throw new TypeError('createWebhookHandler needs a `handler(webhook, request)` option.');
  const receiver = createWebhookReceiver(shared ?? receiverOptions);
  return async (request) => {
    let body: Buffer;
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
  };
}

export { WebhookReceiver, createWebhookReceiver, type WebhookReceiverOptions } from '../core/receiver.js';
export {
  verifyWebhookAsync,
  createWebCryptoVerifier,
  WebCryptoWebhookVerifier,
  type WebCryptoVerifyOptions,
  type WebVerifiedWebhook,
  type WebRawBody,
} from './webcrypto-verify.js';
