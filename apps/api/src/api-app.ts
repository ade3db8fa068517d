import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import type { Clock } from '@app/shared/clock/clock';
import { AppLogger } from '@app/shared/logging/app-logger';
import { Tracing, TracingOverrides } from '@app/shared/tracing/tracing';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { AppModule } from './app.module';
import { ApiError } from './common/api-error';
import { findUnacceptableValue } from './common/input-guard';
import { logRequests, requestIdOf } from './common/request-logging';
import { traceRequests } from './common/request-tracing';
import { toProblem } from './common/problem-details.filter';
import type { ApiConfig } from './config/api-config';
import { buildOpenApiDocument } from './openapi/openapi-document';

export interface ApiAppOptions {
  clock?: Clock;
  /** The process's logger (main.ts makes it before the migration step); one from the configuration otherwise. */
  logger?: AppLogger;
  /** Test seam: spans to an in-memory exporter, tracing on whatever the configuration says. */
  tracing?: TracingOverrides;
}

/** Builds the API application (not yet listening). Used by main.ts and by the end-to-end tests. */
export async function createApiApp(config: ApiConfig, options: ApiAppOptions = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    trustProxy: false,
    // Headers and body within REQUEST_TIMEOUT or 408 and the connection is cut; Node checks every
    // second (its default is every 30 s, which let a trickled body live a minute past the limit).
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: { headersTimeout: Math.min(60_000, config.requestTimeoutMs), requestTimeout: config.requestTimeoutMs, connectionsCheckingInterval: 1_000 },
    // Errors Fastify and Node answer before any route runs get the same problem+json as the rest.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      const { problem } = toProblem(error, request.id);
      void reply.status(problem.status).header('content-type', 'application/problem+json').send(problem);
    },
    clientErrorHandler: writeClientProblem,
    genReqId: requestIdOf,
  } as ConstructorParameters<typeof FastifyAdapter>[0]);
  const fastify = adapter.getInstance<FastifyInstance>();
  if (config.maxConnections > 0) fastify.server.maxConnections = config.maxConnections;
  useStrictJsonParser(fastify, config.bodyLimitBytes);
  const logger = options.logger ?? new AppLogger({ service: 'api', format: config.logFormat, level: config.logLevel });
  const tracing = await Tracing.start(config.tracing, options.tracing);
  traceRequests(fastify, tracing);
  logRequests(fastify, logger);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, options.clock, tracing), adapter, {
    logger,
    bufferLogs: false,
    // Our own JSON parser (below) replaces Nest's, so Nest must not register one.
    bodyParser: false,
  });
  app.enableShutdownHooks();
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  return app;
}

/**
 * Malformed HTTP, oversized headers and timed-out requests are answered by the socket itself (no
 * request object exists yet), still as problem+json.
 */
function writeClientProblem(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', 'The request did not arrive within the request timeout; send it at once.']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'The request headers are too large.']
        : [400, 'malformed_request', 'The request is not valid HTTP.'];
  const title = STATUS_CODES[status] ?? 'Error';
  const requestId = randomUUID();
  const body = JSON.stringify({ type: 'about:blank', title, status, code, message, detail: message, request_id: requestId });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * JSON bodies: an empty body is treated as no body (clients often send Content-Type with nothing
 * after it on action routes), `__proto__`/`constructor.prototype` keys are refused as 400, and
 * NUL, lone surrogates, non-finite numbers and deep nesting as 422 naming the field.
 */
function useStrictJsonParser(fastify: FastifyInstance, bodyLimit: number): void {
  // Only JSON is accepted: any other Content-Type answers 415.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    let parsed: unknown;
    try {
      parsed = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      return done(Object.assign(new Error('The body is not valid JSON.'), { code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 }), undefined);
    }
    // Before any route sees it: what PostgreSQL cannot store, and nesting deep enough to overflow a recursive transform.
    const problem = findUnacceptableValue(parsed);
    if (problem) return done(ApiError.unprocessable('validation_failed', problem.message, [problem]), undefined);
    done(null, parsed);
  });
}
