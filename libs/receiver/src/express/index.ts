import type { IncomingMessage, ServerResponse } from 'node:http';
import { createWebhookReceiver, type WebhookReceiver, type WebhookReceiverOptions } from '../core/receiver.js';
import { readNodeRawBody, settleWhenAnswered, writeJson, type NodeRequest } from '../core/node-http.js';
import { WebhookError } from '../core/errors.js';
import type { VerifiedWebhook } from '../core/verify.js';
import type { ApifyCloudWebhookEvent } from '../core/types.js';

export const EXPRESS_RAW_BODY_HINT =
  'express.json() (or another body parser) ran before the ApifyCloud webhook middleware and consumed the body, so its exact bytes are gone. ' +
  'Either register the webhook route before app.use(express.json()), or keep the bytes with ' +
  "app.use(express.json({ verify: captureRawBody })) where captureRawBody comes from '@apifycloud/webhook-receiver/express'.";

/** The request as your handler sees it after the middleware: `body` is the verified, typed event. */
export type WebhookRequest<E extends ApifyCloudWebhookEvent = ApifyCloudWebhookEvent> = IncomingMessage & {
  body: E;
  apifyCloudWebhook: VerifiedWebhook<E>;
};

type Next = (error?: unknown) => void;

/**
 * Express 4 and 5 middleware: reads the raw body itself (or takes `req.rawBody` / a Buffer body),
 * verifies it, deduplicates on `<subscriptionId>:<eventId>` and calls `next()` with `req.body` set to
 * the typed event. Answer 2xx from your handler once the event is safely handled; any other answer
 * (or a throw) releases the key so the platform's retry runs it again.
 */
export function apifyCloudWebhook(options: WebhookReceiverOptions | WebhookReceiver): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  const receiver = createWebhookReceiver(options);
  const handle = async (request: NodeRequest, res: ServerResponse, next: Next): Promise<void> => {
    let outcome;
    try {
      outcome = await receiver.receive(await readNodeRawBody(request, receiver.maxBodyBytes, EXPRESS_RAW_BODY_HINT), request.headers);
    } catch (error) {
      outcome = receiver.reject(error);
    }
    if (outcome.action === 'respond') {
      writeJson(res, outcome.status, outcome.headers, outcome.body);
      return;
    }
    const webhook = outcome.webhook;
    request.body = webhook.event;
    (request as WebhookRequest).apifyCloudWebhook = webhook;
    settleWhenAnswered(res, outcome.settle);
    next();
  };
  return (req, res, next) => {
    // Errors thrown by next() (a synchronous handler in Express 4) are Express's to handle, not ours.
    handle(req as NodeRequest, res, next).catch(next);
  };
}

/**
 * An Express handler that runs the receiver's routes (`receiver.on()`, `onAny()`) for the verified
 * event and answers 204. A route's throw goes to `next(error)`: the answer is not 2xx, so the key is
 * released and the platform retries. Mount it after `apifyCloudWebhook()` with the same receiver:
 *
 *   app.post('/webhooks', apifyCloudWebhook(receiver), routeWebhook(receiver));
 */
export function routeWebhook(receiver: WebhookReceiver): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  return (req, res, next) => {
    let webhook: VerifiedWebhook;
    try {
      webhook = getWebhook(req);
    } catch (error) {
      next(error);
      return;
    }
    receiver.dispatch(webhook).then(() => {
      if (!res.headersSent) {
        res.statusCode = 204;
        res.end();
      }
    }, next);
  };
}

/** The verified webhook of a request that went through `apifyCloudWebhook()`. Throws if the middleware did not run. */
export function getWebhook<E extends ApifyCloudWebhookEvent = ApifyCloudWebhookEvent>(req: IncomingMessage): VerifiedWebhook<E> {
  const webhook = (req as Partial<WebhookRequest<E>>).apifyCloudWebhook;
  if (webhook === undefined) throw new Error('No verified ApifyCloud webhook on this request: mount apifyCloudWebhook() before this handler.');
  return webhook;
}

export const EXPRESS_BODY_LIMIT_HINT =
  'A body parser in front of the webhook route refused the body (express.json() and express.raw() default to a 100 kB limit). ' +
  "Give it the receiver's limit, express.json({ limit: 1024 * 1024, verify: captureRawBody }), and raise maxBodyBytes with it if you need more.";

/**
 * Express error middleware that answers a body parser's "request entity too large" (from
 * `express.json({ limit })`, `express.raw()`, or NestJS's parser on Express) as the package's
 * `payload_too_large` error with a hint, instead of the framework's HTML page. Mount it after the
 * routes (`app.use(apifyCloudWebhookErrorHandler())`); every other error goes on to the next handler.
 */
export function apifyCloudWebhookErrorHandler(): (error: unknown, req: IncomingMessage, res: ServerResponse, next: Next) => void {
  return (error, _req, res, next) => {
    const candidate = error as { type?: unknown; status?: unknown; limit?: unknown } | null;
    if (candidate === null || typeof candidate !== 'object' || (candidate.type !== 'entity.too.large' && candidate.status !== 413) || res.headersSent) {
      next(error);
      return;
    }
    const limit = typeof candidate.limit === 'number' ? ` of ${candidate.limit} bytes` : '';
    const rejected = new WebhookError('payload_too_large', `The body exceeds the body parser's limit${limit}.`, { hint: EXPRESS_BODY_LIMIT_HINT });
    writeJson(res, rejected.status, {}, rejected.toJSON());
  };
}

/**
 * For apps that must keep a global `express.json()`: pass as its `verify` option to keep the exact
 * bytes on `req.rawBody`, which the middleware then uses.
 *
 *   app.use(express.json({ verify: captureRawBody }));
 */
export function captureRawBody(req: IncomingMessage, _res: ServerResponse, buf: Buffer): void {
  (req as NodeRequest).rawBody = buf;
}

export { WebhookReceiver, createWebhookReceiver, type WebhookReceiverOptions } from '../core/receiver.js';
