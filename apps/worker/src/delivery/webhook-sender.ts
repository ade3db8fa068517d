import { isIP } from 'node:net';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Context, SpanKind, SpanStatusCode, trace, Tracer } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
} from '@opentelemetry/semantic-conventions';
import { Agent } from 'undici';
import type { WebhookConfig } from '@app/shared/config/shared-config';
import { parseRetryAfter } from '@app/shared/webhooks/retry-policy';
import type { FailureKind } from '@app/shared/webhooks/subscription-health';
import { DnsCache } from '@app/shared/webhooks/dns-cache';
import { injectTraceHeaders } from '@app/shared/tracing/trace-context';
import { guardedLookup, resolveAllowedAddresses } from '@app/shared/webhooks/ssrf-guard';
import { buildRequest, OutgoingWebhook } from '@app/shared/webhooks/webhook-request';

/** Response bytes kept for the attempt log (counted after decompression); the rest is dropped. */
export const RESPONSE_EXCERPT_BYTES = 4096;
/**
 * Response headers kept in the attempt log: the few that explain an answer (what it is, why it
 * failed, when to come back), each value cut at 256 characters, so a log line stays small.
 */
export const RESPONSE_HEADERS_KEPT = ['content-type', 'content-length', 'content-encoding', 'retry-after', 'location', 'www-authenticate'] as const;
const RESPONSE_HEADER_MAX_CHARS = 256;

export interface SendResult {
  ok: boolean;
  /** Why it failed (null on success): timeouts and connection failures feed the circuit breaker. */
  failure: FailureKind | null;
  startedAt: Date;
  durationMs: number;
  status: number | null;
  body: string | null;
  error: string | null;
  retryAfterMs: number | null;
  /** The headers of the request as built for sending (signature included, never a secret); null when none was built. */
  requestHeaders: Record<string, string> | null;
  /** RESPONSE_HEADERS_KEPT of the answer, when one came. */
  responseHeaders: Record<string, string> | null;
}

/**
 * POSTs webhooks: keep-alive pools per origin, a total timeout per attempt, no redirects, and
 * the SSRF guard on the address each connection actually uses.
 */
export class WebhookSender {
  private readonly agent: Agent;

  /** `tracer`: set when tracing is on; each POST then gets a CLIENT span and carries its `traceparent`. */
  constructor(
    private readonly config: WebhookConfig,
    connectionsPerOrigin: number,
    dns?: DnsCache,
    private readonly tracer?: Tracer,
  ) {
    this.agent = new Agent({
      connections: connectionsPerOrigin,
      keepAliveTimeout: 30_000,
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
      // Lookups go through a bounded, short-lived cache with a timeout: a slow resolver cannot tie
      // up libuv's thread pool with one lookup per connection.
      connect: { timeout: config.timeoutMs, lookup: guardedLookup({ allowPrivate: config.allowPrivateUrls, cache: dns }) as never },
    });
  }

  /**
   * One attempt. With `parent` (tracing on), it is a CLIENT span, child of `parent`, whose
   * `traceparent` goes out as a header, recorded with the others (the attempt log shows the
   * request as sent), so the receiver's trace joins ours.
   */
  async send(webhook: OutgoingWebhook, now: () => Date, parent?: Context): Promise<SendResult> {
    if (!parent || !this.tracer) return this.post(webhook, now);
    const url = safeUrl(webhook.url);
    const span = this.tracer.startSpan(
      'POST',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: 'POST',
          // Without the query string, which may hold the receiver's own token.
          ...(url ? { [ATTR_URL_FULL]: `${url.origin}${url.pathname}`, [ATTR_SERVER_ADDRESS]: url.hostname, [ATTR_SERVER_PORT]: portOf(url) } : {}),
        },
      },
      parent,
    );
    try {
      const result = await this.post(webhook, now, trace.setSpan(parent, span));
      if (result.status !== null) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, result.status);
      if (!result.ok) {
        span.setAttribute(ATTR_ERROR_TYPE, result.status !== null ? String(result.status) : (result.failure ?? 'internal'));
        span.setStatus({ code: SpanStatusCode.ERROR, message: result.error ?? undefined });
      }
      return result;
    } finally {
      span.end();
    }
  }

  private async post(webhook: OutgoingWebhook, now: () => Date, traceContext?: Context): Promise<SendResult> {
    const startedAt = now();
    const started = process.hrtime.bigint();
    const elapsed = () => Math.round(Number(process.hrtime.bigint() - started) / 1e6);
    let requestHeaders: Record<string, string> | null = null;
    let responseHeaders: Record<string, string> | null = null;
    const failure = (
      kind: FailureKind,
      error: string,
      status: number | null = null,
      body: string | null = null,
      retryAfterMs: number | null = null,
    ): SendResult => ({ ok: false, failure: kind, startedAt, durationMs: elapsed(), status, body, error, retryAfterMs, requestHeaders, responseHeaders });
    // A timer cleared when the attempt ends, not AbortSignal.timeout(): that one lives for the whole
    // timeout after the answer came, so at 1,000 attempts/s tens of thousands of signals and timers
    // piled up in the old generation (heap growing ~8 MB/s between full GCs, measured with --trace-gc).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.config.timeoutMs);
    try {
      const url = new URL(webhook.url);
      // Literal IP hosts never reach the lookup hook, so they are checked here.
      if (isIP(url.hostname.replace(/^\[|\]$/g, ''))) await resolveAllowedAddresses(url.hostname, { allowPrivate: this.config.allowPrivateUrls });
      const { body, headers } = buildRequest(webhook, startedAt);
      if (traceContext) injectTraceHeaders(traceContext, headers);
      requestHeaders = headers;
      const response = await this.agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers,
        body,
        signal: controller.signal,
      });
      responseHeaders = keptHeaders(response.headers);
      const excerpt = await readExcerpt(response.body, String(response.headers['content-encoding'] ?? ''));
      const status = response.statusCode;
      if (status >= 200 && status < 300) {
        return {
          ok: true,
          failure: null,
          startedAt,
          durationMs: elapsed(),
          status,
          body: excerpt,
          error: null,
          retryAfterMs: null,
          requestHeaders,
          responseHeaders,
        };
      }
      if (status >= 300 && status < 400) {
        return failure(
          'http',
          `redirect not followed (${status} to ${String(response.headers.location ?? 'no Location')}); register the final URL`,
          status,
          excerpt,
        );
      }
      const retryAfter = status === 429 || status === 503 ? parseRetryAfter(response.headers['retry-after'], now()) : null;
      return failure(status === 410 ? 'gone' : 'http', `HTTP ${status}`, status, excerpt, retryAfter);
    } catch (error) {
      const { kind, message } = describeError(error, this.config.timeoutMs);
      return failure(kind, message);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

function safeUrl(raw: string): URL | null {
  try {
    return new URL(raw);
  } catch {
    return null;
  }
}

function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

function keptHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of RESPONSE_HEADERS_KEPT) {
    const value = headers[name];
    if (value === undefined) continue;
    kept[name] = (Array.isArray(value) ? value.join(', ') : String(value)).slice(0, RESPONSE_HEADER_MAX_CHARS).replaceAll('\u0000', '');
  }
  return kept;
}

/** Reads at most RESPONSE_EXCERPT_BYTES of the (decompressed) body, then drops the rest unread. */
async function readExcerpt(body: AsyncIterable<Buffer> & { destroy(): void }, encoding: string): Promise<string | null> {
  const decoder = /gzip/i.test(encoding)
    ? createGunzip()
    : /deflate/i.test(encoding)
      ? createInflate()
      : /br/i.test(encoding)
        ? createBrotliDecompress()
        : null;
  const kept: Buffer[] = [];
  let size = 0;
  const keep = (chunk: Buffer) => {
    const room = RESPONSE_EXCERPT_BYTES - size;
    if (room > 0) {
      kept.push(chunk.subarray(0, room));
      size += Math.min(room, chunk.length);
    }
  };
  if (!decoder) {
    try {
      for await (const chunk of body) {
        keep(chunk);
        if (size >= RESPONSE_EXCERPT_BYTES) break; // leaving the loop destroys the stream: the rest is never read
      }
    } catch {
      // a body cut short still leaves its excerpt
    } finally {
      body.destroy();
    }
  } else {
    // Counted after decompression, and stopped as soon as the excerpt is full: a gzip bomb
    // inflates one zlib chunk at a time and is dropped after 4 KiB.
    await new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        body.destroy();
        decoder.destroy();
        resolve();
      };
      decoder.on('data', (chunk: Buffer) => {
        keep(chunk);
        if (size >= RESPONSE_EXCERPT_BYTES) finish();
      });
      decoder.on('end', finish).on('error', finish);
      (async () => {
        for await (const chunk of body) {
          if (done) return;
          if (!decoder.write(chunk)) await new Promise((r) => decoder.once('drain', r).once('close', r));
        }
        decoder.end();
      })().catch(finish);
    });
  }
  if (size === 0) return null;
  // PostgreSQL text cannot hold NUL bytes.
  return Buffer.concat(kept).toString('utf8').replaceAll('\u0000', '');
}

/** A failed attempt's error text and kind: anything that is not a timeout is a connection failure (refused, reset, DNS, TLS). */
function describeError(error: unknown, timeoutMs: number): { kind: FailureKind; message: string } {
  const e = error as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (
    e?.name === 'TimeoutError' ||
    e?.name === 'AbortError' ||
    e?.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e?.code === 'UND_ERR_BODY_TIMEOUT' ||
    e?.code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return { kind: 'timeout', message: `timeout after ${timeoutMs} ms` };
  }
  if (e?.name === 'ForbiddenUrlError') return { kind: 'connection', message: `refused: ${e.message}` };
  const code = e?.code ?? e?.cause?.code;
  const message = e?.message ?? String(error);
  return { kind: code === 'ETIMEOUT' ? 'timeout' : 'connection', message: code && !message.includes(code) ? `${code}: ${message}` : message };
}
