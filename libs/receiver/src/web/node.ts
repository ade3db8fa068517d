/**
 * `@apifycloud/webhook-receiver/web` on Node (the `node` export condition): everything `index.ts`
 * exports, with the same declarations (package.json points both at index.d.ts), except that a
 * receiver this entry creates itself verifies with `node:crypto` (`WebhookReceiver`): on Node that
 * is about 20 times faster per 1 KB delivery than WebCrypto (`npm run bench`, webcrypto_ratio).
 * `WebCryptoWebhookReceiver` stays available for whoever wants it.
 */
import { WebhookReceiver } from '../core/receiver.js';
import type { WebhookReceiverBase } from '../core/receiver-base.js';
import type { WebVerifiedWebhook } from '../core/types.js';
import { defineWebApi, type WebApi } from './fetch.js';

export * from './index.js';

// Declared as the portable receiver type: its handlers get a VerifiedWebhook, which is a
// WebVerifiedWebhook, and nothing but its own verify() feeds them.
const api = defineWebApi((options) => new WebhookReceiver(options) as unknown as WebhookReceiverBase<WebVerifiedWebhook>);

export const createWebhookReceiver: WebApi['createWebhookReceiver'] = api.createWebhookReceiver;
export const createWebhookHandler: WebApi['createWebhookHandler'] = api.createWebhookHandler;
export const verifyWebhookRequest: WebApi['verifyWebhookRequest'] = api.verifyWebhookRequest;
