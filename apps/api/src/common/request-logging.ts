import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppLogger } from '@app/shared/logging/app-logger';
import { LogFields, runWithLogFields } from '@app/shared/logging/log-context';

export const REQUEST_ID_HEADER = 'x-request-id';

/** A caller's id is kept when it is a plain token (a proxy's or a client's); anything else is replaced, never echoed. */
const CALLER_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Fastify's `genReqId`: the caller's X-Request-Id when it is usable, else a new UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && CALLER_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Every request gets an id (`request.id`): echoed as X-Request-Id on every answer, in problem
 * bodies as `request_id`, and on every log line written while the request runs. One access line
 * per request when it ends (method, route, status, duration), never its query, headers or body.
 *
 * The fields are entered at `onRequest` and again at `preHandler`, as in request-tracing.ts: a
 * body is read in stream callbacks outside the request's async context.
 */
export function logRequests(fastify: FastifyInstance, logger: AppLogger): void {
  const fieldsOf = new WeakMap<FastifyRequest, LogFields>();

  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    const fields = { request_id: request.id };
    fieldsOf.set(request, fields);
    runWithLogFields(fields, done);
  });

  fastify.addHook('preHandler', (request, _reply, done) => {
    const fields = fieldsOf.get(request);
    if (fields) runWithLogFields(fields, done);
    else done();
  });

  if (!logger.isLevelEnabled('log')) return;
  fastify.addHook('onResponse', (request, reply, done) => {
    logger.log(
      `${request.method} ${request.routeOptions.url ?? '(no route)'} ${reply.statusCode}`,
      {
        request_id: request.id,
        method: request.method,
        route: request.routeOptions.url ?? null,
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'HTTP',
    );
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    logger.log(
      `${request.method} ${request.routeOptions.url ?? '(no route)'}: the client closed the connection before the answer`,
      { request_id: request.id, method: request.method, route: request.routeOptions.url ?? null, aborted: true },
      'HTTP',
    );
    done();
  });
}
