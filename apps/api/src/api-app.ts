import { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import type { Clock } from '@app/shared/clock/clock';
import { AppModule } from './app.module';
import { ApiError } from './common/api-error';
import { findUnacceptableValue } from './common/input-guard';
import type { ApiConfig } from './config/api-config';

export interface ApiAppOptions {
  clock?: Clock;
  logLevels?: LogLevel[];
}

const LEVELS: Record<ApiConfig['logLevel'], LogLevel[]> = {
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  info: ['fatal', 'error', 'warn', 'log'],
  warn: ['fatal', 'error', 'warn'],
  error: ['fatal', 'error'],
};

/** Builds the API application (not yet listening). Used by main.ts and by the end-to-end tests. */
export async function createApiApp(config: ApiConfig, options: ApiAppOptions = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: config.bodyLimitBytes, trustProxy: false });
  useStrictJsonParser(adapter.getInstance() as unknown as FastifyInstance, config.bodyLimitBytes);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, options.clock), adapter, {
    logger: options.logLevels ?? LEVELS[config.logLevel],
    bufferLogs: false,
    // Our own JSON parser (below) replaces Nest's, so Nest must not register one.
    bodyParser: false,
  });
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Scheduled calls and webhooks API')
      .setDescription('Bookings, video apps and webhook administration. Authenticate with "Authorization: Bearer <key>".')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  return app;
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
