import { applyDecorators } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { ApiPageResponse, ApiProblems } from '../openapi/openapi-decorators';
import {
  RecoverDeliveriesResponse,
  SubscriptionStatsResponse,
  WebhookDeliveryResponse,
  WebhookSubscriptionResponse,
  WebhookSubscriptionWithSecretResponse,
} from './dto/webhook.dto';

/**
 * The OpenAPI description of WebhookSubscriptionsController's routes, one decorator per handler;
 * the problems every route has are added by the document builder.
 */
const SUB_ID = ApiParam({ name: 'subId', description: 'The webhook subscription.', schema: { type: 'string', format: 'uuid' } });
const NO_SUCH_APP = { 404: 'No such app for these credentials (`not_found`).' };
const NO_SUCH_SUB = { 404: 'No such app, or no such subscription in it (`not_found`).' };
const URL_REFUSED = {
  422: 'The body is not valid (`validation_failed`, with `errors`), or the URL is refused: not http(s), credentials in it, or a private or reserved address.',
};

export const WebhookSubscriptionsOpenApi = {
  controller: () => ApiParam({ name: 'appId', description: 'The video app.', schema: { type: 'string', format: 'uuid' } }),

  create: () =>
    applyDecorators(
      ApiOperation({ operationId: 'createWebhookSubscription', summary: 'Subscribe an endpoint to events' }),
      ApiCreatedResponse({ type: WebhookSubscriptionWithSecretResponse, description: 'The subscription, with its signing secret: shown this once.' }),
      ApiProblems(NO_SUCH_APP, URL_REFUSED),
    ),

  list: () =>
    applyDecorators(
      ApiOperation({ operationId: 'listWebhookSubscriptions', summary: 'List webhook subscriptions' }),
      ApiPageResponse(WebhookSubscriptionResponse, 'One page of subscriptions, newest first.'),
      ApiProblems(NO_SUCH_APP),
    ),

  get: () =>
    applyDecorators(
      SUB_ID,
      ApiOperation({
        operationId: 'getWebhookSubscription',
        summary: 'Get a webhook subscription',
        description: 'With its status, health and last delivery; never the secret.',
      }),
      ApiOkResponse({ type: WebhookSubscriptionResponse, description: 'The subscription.' }),
      ApiProblems(NO_SUCH_SUB),
    ),

  update: () =>
    applyDecorators(
      SUB_ID,
      ApiOperation({
        operationId: 'updateWebhookSubscription',
        summary: 'Change a webhook subscription',
        description: 'Only the fields sent change; `rate_limit_per_second: null` removes the limit.',
      }),
      ApiOkResponse({ type: WebhookSubscriptionResponse, description: 'The subscription after the change.' }),
      ApiProblems(NO_SUCH_SUB, URL_REFUSED),
    ),

  remove: () =>
    applyDecorators(
      SUB_ID,
      ApiOperation({ operationId: 'deleteWebhookSubscription', summary: 'Delete a webhook subscription' }),
      ApiNoContentResponse({ description: 'Deleted: nothing more is sent to it.' }),
      ApiProblems(NO_SUCH_SUB),
    ),

  pause: () =>
    applyDecorators(
      SUB_ID,
      ApiOperation({
        operationId: 'pauseWebhookSubscription',
        summary: 'Pause a webhook subscription',
        description: 'Nothing is sent while paused: new and waiting deliveries are `held`.',
      }),
      ApiOkResponse({ type: WebhookSubscriptionResponse, description: 'The paused subscription.' }),
      ApiProblems(NO_SUCH_SUB),
    ),

  resume: () =>
    applyDecorators(
      SUB_ID,
      ApiOperation({
        operationId: 'resumeWebhookSubscription',
        summary: 'Resume a webhook subscription',
        description: 'Active again, circuit closed; the held deliveries are sent now, or marked `failed` with `replay_held: false`.',
      }),
      ApiOkResponse({ type: WebhookSubscriptionResponse, description: 'The active subscription.' }),
      ApiProblems(NO_SUCH_SUB),
    ),

  rotateSecret: () =>
    applyDecorators(
      SUB_ID,
      ApiOperation({
        operationId: 'rotateWebhookSubscriptionSecret',
        summary: 'Rotate the signing secret',
        description: "During the grace period deliveries also carry the old secret's signature, in X-ApifyCloud-Signature-Previous.",
      }),
      ApiOkResponse({ type: WebhookSubscriptionWithSecretResponse, description: 'The subscription, with its new secret: shown this once.' }),
      ApiProblems(NO_SUCH_SUB),
    ),

  recover: () =>
    applyDecorators(
      SUB_ID,
      ApiOperation({
        operationId: 'recoverWebhookDeliveries',
        summary: 'Re-send failed deliveries',
        description: 'Each delivery that failed and was created at or after `since` gets one more attempt now (a manual one).',
      }),
      ApiAcceptedResponse({ type: RecoverDeliveriesResponse, description: 'How many deliveries were queued again.' }),
      ApiProblems(NO_SUCH_SUB, {
        409: 'The subscription is paused (`subscription_paused`): resume it first.',
        422: 'The body is not valid (`validation_failed`, with `errors`); `since` may not lie in the future.',
      }),
    ),

  listDeliveries: () =>
    applyDecorators(
      SUB_ID,
      ApiOperation({
        operationId: 'listWebhookSubscriptionDeliveries',
        summary: "List a subscription's deliveries",
        description: 'The delivery log, newest first.',
      }),
      ApiPageResponse(WebhookDeliveryResponse, 'One page of deliveries.'),
      ApiProblems(NO_SUCH_SUB),
    ),

  sendTest: () =>
    applyDecorators(
      SUB_ID,
      ApiOperation({
        operationId: 'sendTestWebhook',
        summary: 'Send a test event now',
        description:
          'One delivery of an example record for `event` (default `scheduled.created`), with `"test": true` in the body and otherwise signed and sent like any delivery. ' +
          "Sent at once even while the subscription is paused or its circuit is open; one attempt (trigger `test`), no retry, no effect on the subscription's health. " +
          'At most 10 per minute per subscription.',
      }),
      ApiAcceptedResponse({ type: WebhookDeliveryResponse, description: 'The test delivery, queued: follow it with GET …/webhook-deliveries/{deliveryId}.' }),
      ApiProblems(NO_SUCH_SUB, {
        422: 'The body is not valid (`validation_failed`, with `errors`): `event` must be one of the five event types.',
        429: 'Too many test sends to this subscription in the last minute (`too_many_test_sends`), or too many failed authentications; `Retry-After` says when to try again.',
      }),
    ),

  stats: () =>
    applyDecorators(
      SUB_ID,
      ApiOperation({
        operationId: 'getWebhookSubscriptionStats',
        summary: 'Success rate and latency over time',
        description:
          'Attempts by start time in buckets aligned to their length (UTC), oldest first, every bucket present; test sends are not counted. ' +
          "Attempts of events older than the window less the retry schedule's span (manual retries or resumed deliveries of old events) are not counted.",
      }),
      ApiOkResponse({ type: SubscriptionStatsResponse, description: 'Totals and buckets of the window.' }),
      ApiProblems(NO_SUCH_SUB),
    ),
};
