import {
  applyDecorators,
  Catch,
  createParamDecorator,
  HttpCode,
  HttpException,
  Inject,
  Injectable,
  Module,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type ArgumentsHost,
  type DynamicModule,
  type ExceptionFilter,
  type ExecutionContext,
  type InjectionToken,
  type ModuleMetadata,
  type NestInterceptor,
  type OptionalFactoryDependency,
} from '@nestjs/common';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { WebhookReceiver, type WebhookReceiverOptions, type WebhookResponse } from '../core/receiver.js';
import { readNodeRawBody, type NodeRequest } from '../core/node-http.js';
import { WebhookError } from '../core/errors.js';
import type { VerifiedWebhook } from '../core/verify.js';

/** Injection token of the `WebhookReceiver` the guard and interceptor use. */
export const APIFYCLOUD_WEBHOOK_RECEIVER = 'APIFYCLOUD_WEBHOOK_RECEIVER';

export const NEST_RAW_BODY_HINT =
  'Nest parsed the JSON body before the ApifyCloud webhook guard could see its bytes. Create the app with rawBody enabled: ' +
  'NestFactory.create(AppModule, { rawBody: true }), or with Fastify NestFactory.create(AppModule, new FastifyAdapter(), { rawBody: true }).';

const REQUEST_KEY = 'apifyCloudWebhook';

/** Express requests are Node requests; Fastify requests wrap one in `raw` and never leave the stream unread. */
type NestRequest = NodeRequest & { raw?: NodeRequest; [REQUEST_KEY]?: VerifiedWebhook };

function isFastifyRequest(request: NestRequest): boolean {
  return request.raw !== undefined && request.raw !== request;
}

async function rawBodyOf(request: NestRequest, maxBodyBytes: number): Promise<Buffer> {
  if (isFastifyRequest(request)) {
    const kept = request.rawBody ?? request.body;
    if (Buffer.isBuffer(kept)) return kept;
    throw new WebhookError('raw_body_unavailable', 'Fastify parsed the request body and did not keep its bytes.', { hint: NEST_RAW_BODY_HINT });
  }
  return readNodeRawBody(request, maxBodyBytes, NEST_RAW_BODY_HINT);
}

function setHeaders(response: unknown, headers: Record<string, string>): void {
  const res = response as { header?: (n: string, v: string) => unknown; setHeader?: (n: string, v: string) => unknown; raw?: unknown };
  for (const [name, value] of Object.entries(headers)) {
    // FastifyReply has header(); Express's response is a Node ServerResponse with setHeader().
    if (res.raw !== undefined && typeof res.header === 'function') res.header(name, value);
    else res.setHeader?.(name, value);
  }
}

function toHttpException(answer: WebhookResponse, response: unknown): HttpException {
  setHeaders(response, answer.headers);
  return new HttpException(answer.body as Record<string, unknown>, answer.status, { cause: answer.error });
}

/** Verifies the delivery (raw body, signature, replay window) before anything else sees the request. */
@Injectable()
export class ApifyCloudWebhookGuard implements CanActivate {
  constructor(@Inject(APIFYCLOUD_WEBHOOK_RECEIVER) private readonly receiver: WebhookReceiver) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<NestRequest>();
    try {
      const rawBody = await rawBodyOf(request, this.receiver.maxBodyBytes);
      request[REQUEST_KEY] = this.receiver.verify(rawBody, request.headers);
      return true;
    } catch (error) {
      // Also the way out for an acknowledged unknown event (202): the handler must not run for it.
      throw toHttpException(this.receiver.reject(error), http.getResponse());
    }
  }
}

/**
 * Claims the idempotency key after every guard passed, and completes it when the handler returns
 * (before the answer is sent, so a duplicate arriving right after sees it completed) or releases it
 * when the handler throws, so the platform's retry runs it again.
 */
@Injectable()
export class ApifyCloudWebhookInterceptor implements NestInterceptor {
  constructor(@Inject(APIFYCLOUD_WEBHOOK_RECEIVER) private readonly receiver: WebhookReceiver) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const webhook = http.getRequest<NestRequest>()[REQUEST_KEY];
    if (webhook === undefined) {
      throw new Error('ApifyCloudWebhookInterceptor needs ApifyCloudWebhookGuard first: use the @ApifyCloudWebhook() decorator.');
    }
    const outcome = await this.receiver.claim(webhook);
    if (outcome.action === 'respond') {
      if (outcome.status >= 300) throw toHttpException(outcome, http.getResponse());
      return from([outcome.body]);
    }
    return from(
      (async () => {
        try {
          const value = await lastValueFrom(next.handle(), { defaultValue: undefined });
          await outcome.settle(true);
          return value;
        } catch (error) {
          await outcome.settle(false);
          throw error;
        }
      })(),
    );
  }
}

export const NEST_BODY_LIMIT_HINT =
  "The app's body parser refused the body before the webhook guard ran (NestJS on Express defaults to a 100 kB limit). " +
  "Give it the receiver's limit: app.useBodyParser('json', { limit: maxBodyBytes }) on Express, new FastifyAdapter({ bodyLimit: maxBodyBytes }) on Fastify, " +
  'and pass the same maxBodyBytes to ApifyCloudWebhookModule.forRoot.';

/**
 * Matches, through `instanceof`, the "body too large" errors of the two adapters' body parsers:
 * Express's (`type: 'entity.too.large'`) and Fastify's (`FST_ERR_CTP_BODY_TOO_LARGE`). Nest picks a
 * filter by `exception instanceof` one of its `@Catch()` types, so the filter below sees nothing else
 * and every other error keeps the app's own handling.
 */
class BodyTooLarge {
  static [Symbol.hasInstance](value: unknown): boolean {
    return parserError(value) !== undefined;
  }
}

/** The parser's error itself, or the one it carries as `cause` (recent Nest versions wrap a parser's 4xx in an `HttpException`). */
function parserError(value: unknown): { limit?: unknown } | undefined {
  for (const candidate of [value, (value as { cause?: unknown } | null)?.cause]) {
    if (candidate === null || typeof candidate !== 'object') continue;
    const error = candidate as { type?: unknown; code?: unknown; limit?: unknown };
    if (error.type === 'entity.too.large' || error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return error;
  }
  return undefined;
}

/**
 * Answers a body the adapter's parser refused as too large with the package's `413 payload_too_large`
 * and a hint, instead of the framework's own answer. Register it globally, since the parser runs
 * before any controller: `app.useGlobalFilters(new ApifyCloudPayloadTooLargeFilter())`.
 */
@Catch(BodyTooLarge)
export class ApifyCloudPayloadTooLargeFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const limit = parserError(exception)?.limit;
    const detail = typeof limit === 'number' ? ` of ${limit} bytes` : '';
    const error = new WebhookError('payload_too_large', `The body exceeds the body parser's limit${detail}.`, { hint: NEST_BODY_LIMIT_HINT });
    const response = host.switchToHttp().getResponse<{
      raw?: unknown;
      code?: (s: number) => { header: (n: string, v: string) => { send: (b: string) => void } };
      status?: (s: number) => { json: (b: unknown) => void };
    }>();
    // FastifyReply has code()/header()/send(); Express's response has status()/json().
    if (response.raw !== undefined && typeof response.code === 'function') {
      response.code(error.status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(error.toJSON()));
    } else {
      response.status?.(error.status).json(error.toJSON());
    }
  }
}

/**
 * Marks a controller method as the ApifyCloud webhook endpoint: verification guard, idempotency
 * interceptor and a 200 answer. Read the event with `@WebhookEvent()`.
 */
export function ApifyCloudWebhook(): MethodDecorator & ClassDecorator {
  return applyDecorators(UseGuards(ApifyCloudWebhookGuard), UseInterceptors(ApifyCloudWebhookInterceptor), HttpCode(200));
}

/** The verified, typed event (`ApifyCloudWebhookEvent`). */
export const WebhookEvent = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  return context.switchToHttp().getRequest<NestRequest>()[REQUEST_KEY]?.event;
});

/** The whole `VerifiedWebhook` (raw body, idempotency key, which secret matched...). */
export const Webhook = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  return context.switchToHttp().getRequest<NestRequest>()[REQUEST_KEY];
});

export interface ApifyCloudWebhookModuleOptions extends WebhookReceiverOptions {
  /** Register the module globally (default), so any controller can use `@ApifyCloudWebhook()`. */
  global?: boolean;
}

export interface ApifyCloudWebhookModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Nest's own factory signature: the injected values' types are the caller's
  useFactory: (...args: any[]) => WebhookReceiverOptions | Promise<WebhookReceiverOptions>;
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  global?: boolean;
}

@Module({})
export class ApifyCloudWebhookModule {
  static forRoot(options: ApifyCloudWebhookModuleOptions): DynamicModule {
    const { global = true, ...receiverOptions } = options;
    // Built here, not lazily, so a missing secret fails the app at boot rather than on the first delivery.
    const receiver = new WebhookReceiver(receiverOptions);
    return ApifyCloudWebhookModule.build(global, [], { provide: APIFYCLOUD_WEBHOOK_RECEIVER, useValue: receiver });
  }

  static forRootAsync(options: ApifyCloudWebhookModuleAsyncOptions): DynamicModule {
    return ApifyCloudWebhookModule.build(options.global ?? true, options.imports ?? [], {
      provide: APIFYCLOUD_WEBHOOK_RECEIVER,
      useFactory: async (...args: unknown[]) => new WebhookReceiver(await options.useFactory(...args)),
      inject: options.inject ?? [],
    });
  }

  private static build(
    global: boolean,
    imports: NonNullable<ModuleMetadata['imports']>,
    provider: NonNullable<ModuleMetadata['providers']>[number],
  ): DynamicModule {
    return {
      module: ApifyCloudWebhookModule,
      global,
      imports,
      providers: [provider, ApifyCloudWebhookGuard, ApifyCloudWebhookInterceptor],
      exports: [APIFYCLOUD_WEBHOOK_RECEIVER, ApifyCloudWebhookGuard, ApifyCloudWebhookInterceptor],
    };
  }
}

export { WebhookReceiver, createWebhookReceiver, type WebhookReceiverOptions } from '../core/receiver.js';
