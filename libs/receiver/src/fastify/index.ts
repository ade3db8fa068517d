import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { createWebhookReceiver, type WebhookReceiver, type WebhookReceiverOptions } from '../core/receiver.js';
import { WebhookError } from '../core/errors.js';
import type { VerifiedWebhook } from '../core/verify.js';

export type FastifyWebhookHandler = (webhook: VerifiedWebhook, request: FastifyRequest, reply: FastifyReply) => unknown;

export interface FastifyWebhookOptions extends WebhookReceiverOptions {
  /** Route path inside the plugin's prefix. Default `/`. */
  path?: string;
  /**
   * Runs once per event. Return (or resolve) when the event is safely handled: the plugin answers 204
   * unless you sent something else. Throwing, or answering non-2xx, releases the key for the retry.
   */
  handler: FastifyWebhookHandler;
  /** A receiver shared with other routes (then the receiver options above are ignored). */
  receiver?: WebhookReceiver;
}

// No `declare module 'fastify'` augmentation for request.apifyCloudWebhook: a program that loads both the
// CJS and the ESM typings (a .cts and a .mts file) would see two conflicting declarations. Use getWebhook().
type RequestWithWebhook = FastifyRequest & { apifyCloudWebhook?: VerifiedWebhook | null };

/** The verified webhook of a request on the plugin's route (the handler also receives it directly). */
export function getWebhook(request: FastifyRequest): VerifiedWebhook {
  const webhook = (request as RequestWithWebhook).apifyCloudWebhook;
  if (!webhook) throw new Error('No verified ApifyCloud webhook on this request: it did not go through apifyCloudWebhookPlugin.');
  return webhook;
}

const EMPTY = Buffer.alloc(0);

/**
 * Fastify 4/5 plugin that owns one POST route. It is encapsulated on purpose: its raw-buffer body
 * parser applies to its own route only, so the rest of the app keeps Fastify's JSON parsing.
 *
 *   await app.register(apifyCloudWebhookPlugin, { prefix: '/webhooks', path: '/apifycloud', secret, handler });
 */
export const apifyCloudWebhookPlugin: FastifyPluginCallback<FastifyWebhookOptions> = (
  fastify: FastifyInstance,
  options: FastifyWebhookOptions,
  done: (error?: Error) => void,
) => {
  const { path = '/', handler, receiver: shared, ...receiverOptions } = options;
  if (typeof handler !== 'function') {
    done(new TypeError('apifyCloudWebhookPlugin needs a `handler(webhook, request, reply)` option.'));
    return;
  }
  let receiver: WebhookReceiver;
  try {
    receiver = createWebhookReceiver(shared ?? receiverOptions);
  } catch (error) {
    done(error as Error);
    return;
  }

  // Only bytes can be verified: whatever parsers the parent registered, this scope keeps the body raw.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: receiver.maxBodyBytes }, (_request, body, parsed) => parsed(null, body));
  fastify.decorateRequest('apifyCloudWebhook', null);

  fastify.setErrorHandler((error: Error & { code?: string }, _request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const outcome = receiver.reject(
        new WebhookError('payload_too_large', `The body exceeds the limit of ${receiver.maxBodyBytes} bytes.`, {
          hint: "The plugin's route accepts maxBodyBytes (1 MiB by default); pass a larger maxBodyBytes to apifyCloudWebhookPlugin to raise it.",
        }),
      );
      return reply.code(outcome.status).send(outcome.body);
    }
    throw error;
  });

  fastify.post(path, async (request, reply) => {
    const body = request.body;
    const outcome = await receiver.receive(Buffer.isBuffer(body) ? body : EMPTY, request.headers);
    if (outcome.action === 'respond') {
      return reply.code(outcome.status).headers(outcome.headers).send(outcome.body);
    }
    (request as RequestWithWebhook).apifyCloudWebhook = outcome.webhook;
    // Settled from the handler's own outcome, not the connection's: a client that gave up waiting
    // must not release the claim while the handler still runs.
    let result: unknown;
    try {
      result = await handler(outcome.webhook, request, reply);
    } catch (error) {
      await outcome.settle(false);
      throw error;
    }
    const status = reply.sent || result !== undefined || reply.statusCode !== 200 ? reply.statusCode : 204;
    await outcome.settle(status >= 200 && status < 300);
    if (reply.sent) return reply;
    if (result === undefined) {
      if (reply.statusCode === 200) reply.code(204);
      return reply.send();
    }
    return result;
  });
  done();
};

Object.defineProperty(apifyCloudWebhookPlugin, Symbol.for('fastify.display-name'), { value: 'apifycloud-webhook' });

export { WebhookReceiver, createWebhookReceiver, type WebhookReceiverOptions } from '../core/receiver.js';
