import { Context, context, Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { extractHttpTraceContext } from '@app/shared/tracing/trace-context';
import type { Tracing } from '@app/shared/tracing/tracing';

interface RequestSpan {
  span: Span;
  context: Context;
}

/**
 * One SERVER span per API request, continuing the caller's trace when it sent a `traceparent`.
 * Explicit Fastify hooks rather than the auto-instrumentations: those patch `http` and Fastify at
 * require time (an import order to get right in both apps and in tests), and add spans for every
 * internal step; a request span and the context it makes active is all this app needs, because
 * the booking change's outbox row carries the trace on from here.
 *
 * The span's context is made active twice: at `onRequest`, and again at `preHandler`, because a
 * body is read in stream callbacks that run outside the context, so the route handler (guards,
 * services, the outbox insert) would otherwise not see it. Nothing is registered when tracing is off.
 */
export function traceRequests(fastify: FastifyInstance, tracing: Tracing): void {
  if (!tracing.enabled) return;
  const spans = new WeakMap<FastifyRequest, RequestSpan>();

  fastify.addHook('onRequest', (request, _reply, done) => {
    const parent = extractHttpTraceContext(request.headers);
    const route = request.routeOptions.url;
    const path = request.url.split('?', 1)[0];
    const span = tracing.tracer.startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: request.method,
          [ATTR_URL_PATH]: path,
          [ATTR_URL_SCHEME]: request.protocol,
          ...(route ? { [ATTR_HTTP_ROUTE]: route } : {}),
          ...(request.headers['user-agent'] ? { [ATTR_USER_AGENT_ORIGINAL]: request.headers['user-agent'] } : {}),
        },
      },
      parent,
    );
    const entry = { span, context: trace.setSpan(parent, span) };
    spans.set(request, entry);
    context.with(entry.context, done);
  });

  fastify.addHook('preHandler', (request, _reply, done) => {
    const entry = spans.get(request);
    if (entry) context.with(entry.context, done);
    else done();
  });

  const end = (request: FastifyRequest, status: number | null, error?: string): void => {
    const entry = spans.get(request);
    if (!entry) return;
    spans.delete(request);
    if (status !== null) entry.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    // Server spans are errors for 5xx only: a 4xx is the client's mistake, answered as designed.
    if (error || (status !== null && status >= 500)) entry.span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    entry.span.end();
  };
  fastify.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    end(request, null, 'the client closed the connection before the answer');
    done();
  });
}
