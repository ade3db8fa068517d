import type { IncomingMessage, ServerResponse } from 'node:http';
import { WebhookError } from './errors.js';

/** A Node request as frameworks hand it over, with the properties body parsers leave behind. */
export type NodeRequest = IncomingMessage & { body?: unknown; rawBody?: unknown; _body?: boolean };

function asBuffer(value: unknown): Buffer | undefined {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return undefined;
}

/**
 * The exact bytes of the request: a `rawBody` kept by a parser hook, a Buffer body (`express.raw()`),
 * or the unread stream, read here with a size limit. If a parser already consumed the stream without
 * keeping the bytes, fails at once with `hint` instead of waiting for data that will never come.
 */
export async function readNodeRawBody(req: NodeRequest, maxBodyBytes: number, hint: string): Promise<Buffer> {
  const kept = asBuffer(req.rawBody) ?? asBuffer(req.body);
  if (kept !== undefined) return kept;
  if (req._body === true || req.readableEnded || typeof req.body === 'string') {
    throw new WebhookError('raw_body_unavailable', 'A body parser consumed the request body before the webhook could be verified.', { hint });
  }
  const declared = Number(req.headers['content-length']);
  if (declared > maxBodyBytes) {
    throw new WebhookError('payload_too_large', `Content-Length ${declared} exceeds the limit of ${maxBodyBytes} bytes.`);
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer | string): void => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > maxBodyBytes) {
        cleanup();
        // Keep draining so the connection can still carry the 413 answer.
        req.resume();
        reject(new WebhookError('payload_too_large', `The body exceeds the limit of ${maxBodyBytes} bytes.`));
        return;
      }
      chunks.push(buf);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (error: unknown): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('The request was closed before its body was received.'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * Settles the idempotency claim when the application answers: `res.end()` with a 2xx completes it,
 * any other answer (a thrown handler's 500 from the framework's error handler, a 4xx) releases it for
 * the retry. The handler's answer is what counts, not the connection: if the platform gave up waiting
 * and closed it, the handler is still running, so the claim stays (a retry meanwhile gets 409) until
 * the handler answers, which Node lets it do on a closed response too.
 */
export function settleWhenAnswered(res: ServerResponse, settle: (succeeded: boolean) => Promise<void>): void {
  let done = false;
  const end = res.end;
  res.end = function (this: ServerResponse) {
    if (!done) {
      done = true;
      void settle(res.statusCode >= 200 && res.statusCode < 300);
    }
    // `arguments` rather than a rest array: V8 passes it through apply() without allocating.
    // eslint-disable-next-line prefer-rest-params
    return (end as (...a: unknown[]) => ServerResponse).apply(this, arguments as unknown as unknown[]);
  } as ServerResponse['end'];
}

export function writeJson(res: ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  const payload = JSON.stringify(body);
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(payload));
  res.end(payload);
}
