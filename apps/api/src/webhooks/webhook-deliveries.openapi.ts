import { applyDecorators } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { ApiPageResponse, ApiProblems } from '../openapi/openapi-decorators';
import { WebhookDeliveryDetailResponse, WebhookDeliveryResponse } from './dto/webhook.dto';

/** The OpenAPI description of WebhookDeliveriesController's routes, one decorator per handler. */
const NO_SUCH_DELIVERY = { 404: 'No such app, or no such delivery in it (`not_found`).' };

export const WebhookDeliveriesOpenApi = {
  controller: () =>
    applyDecorators(
      ApiParam({ name: 'appId', description: 'The video app.', schema: { type: 'string', format: 'uuid' } }),
      ApiParam({ name: 'deliveryId', description: 'The delivery.', schema: { type: 'string', format: 'uuid' } }),
    ),

  get: () =>
    applyDecorators(
      ApiOperation({
        operationId: 'getWebhookDelivery',
        summary: 'Get a delivery with its attempts',
        description:
          'Every attempt, oldest first: time, duration, the request as sent (headers, and the body byte for byte), response status, a few response headers, the first 4 KiB of the response body, error and trigger.',
      }),
      ApiOkResponse({ type: WebhookDeliveryDetailResponse, description: 'The delivery and its attempt log.' }),
      ApiProblems(NO_SUCH_DELIVERY),
    ),

  retry: () =>
    applyDecorators(
      ApiOperation({
        operationId: 'retryWebhookDelivery',
        summary: 'Retry a delivery now',
        description: 'One manual attempt now, numbered after the last one. Refused while an attempt is in flight or the subscription is paused.',
      }),
      ApiAcceptedResponse({ type: WebhookDeliveryResponse, description: 'The delivery, queued for its manual attempt.' }),
      ApiProblems(NO_SUCH_DELIVERY, {
        409: 'An attempt is in progress (`attempt_in_progress`), the subscription is paused (`subscription_paused`), or it is a test send (`test_delivery`: send another test).',
      }),
    ),
};

/** The OpenAPI description of ScheduledCallDeliveriesController. */
export const ScheduledCallDeliveriesOpenApi = {
  controller: () =>
    applyDecorators(
      ApiParam({ name: 'appId', description: 'The video app.', schema: { type: 'string', format: 'uuid' } }),
      ApiParam({ name: 'id', description: 'The scheduled call.', schema: { type: 'string', format: 'uuid' } }),
    ),

  list: () =>
    applyDecorators(
      ApiOperation({
        operationId: 'listScheduledCallDeliveries',
        summary: "List a scheduled call's deliveries",
        description: "The deliveries of this booking's events to every subscription of the app, newest event first.",
      }),
      ApiPageResponse(WebhookDeliveryResponse, 'One page of deliveries.'),
      ApiProblems({ 404: 'No such app, or no such scheduled call in it (`not_found`).' }),
    ),
};
