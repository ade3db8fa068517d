import { Context, context, defaultTextMapGetter, defaultTextMapSetter, isSpanContextValid, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * W3C trace context (`traceparent`, `tracestate`) as it crosses process boundaries: in the
 * outbox row (`outbox_events.trace_context`), in a retry timer's job data, and on the outgoing
 * webhook. One propagator, fixed to W3C whatever OTEL_PROPAGATORS says, because receivers and
 * stored rows are read by other processes and versions.
 *
 * Stored form: the `traceparent`, then a space and the `tracestate` when there is one (a
 * traceparent never contains a space, so the first one ends it).
 */
const w3c = new W3CTraceContextPropagator();

/** The stored form of `ctx`'s span, or null when it has none (always so while tracing is off). */
export function serializeTraceContext(ctx: Context): string | null {
  const spanContext = trace.getSpanContext(ctx);
  if (!spanContext || !isSpanContextValid(spanContext)) return null;
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, defaultTextMapSetter);
  if (!carrier.traceparent) return null;
  return carrier.tracestate ? `${carrier.traceparent} ${carrier.tracestate}` : carrier.traceparent;
}

/** The stored form of the active span's context: what an outbox event written now belongs to. */
export function activeTraceContext(): string | null {
  return serializeTraceContext(context.active());
}

/** A context whose (remote) parent is the stored one; undefined when there is none or it is malformed. */
export function parseTraceContext(stored: string | null | undefined): Context | undefined {
  if (!stored) return undefined;
  const space = stored.indexOf(' ');
  const carrier = space < 0 ? { traceparent: stored } : { traceparent: stored.slice(0, space), tracestate: stored.slice(space + 1) };
  const ctx = w3c.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
  return trace.getSpanContext(ctx) ? ctx : undefined;
}

/** The caller's context from incoming HTTP headers (Node lower-cases their names), or the root. */
export function extractHttpTraceContext(headers: Record<string, string | string[] | undefined>): Context {
  return w3c.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
}

/** Adds `traceparent` (and `tracestate` if any) for `ctx`'s span to outgoing headers. */
export function injectTraceHeaders(ctx: Context, headers: Record<string, string>): void {
  w3c.inject(ctx, headers, defaultTextMapSetter);
}
