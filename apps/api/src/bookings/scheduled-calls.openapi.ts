import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiParam } from '@nestjs/swagger';
import { ApiPageResponse, ApiProblems, ApiScheduledCallResponse } from '../openapi/openapi-decorators';

/**
 * The OpenAPI description of ScheduledCallsController's routes, one decorator per handler, so the
 * controller stays a list of routes. Responses carry the shared `ScheduledCall` schema
 * (libs/shared/src/bookings/scheduled-call.schema.ts); the problems every route has are added by
 * the document builder.
 */
const CALL_ID = ApiParam({ name: 'id', description: 'The scheduled call.', schema: { type: 'string', format: 'uuid' } });
const NO_SUCH_APP = { 404: 'No such app for these credentials (`not_found`).' };
const NO_SUCH_CALL = { 404: 'No such app, or no such scheduled call in it (`not_found`).' };
const INVALID_TRANSITION = { 409: "The call's status does not allow this (`invalid_transition`), e.g. a cancelled or no-show call." };

export const ScheduledCallsOpenApi = {
  controller: () => ApiParam({ name: 'appId', description: 'The video app.', schema: { type: 'string', format: 'uuid' } }),

  create: () =>
    applyDecorators(
      ApiOperation({ operationId: 'createScheduledCall', summary: 'Create a scheduled call', description: 'Fires `scheduled.created`.' }),
      ApiHeader({
        name: 'Idempotency-Key',
        required: false,
        description:
          'Retry-safe creation: the same key and body return the same call (201, `Idempotent-Replayed: true`); the same key with another body is a 422.',
        schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
      }),
      ApiScheduledCallResponse(201, 'The new call, or the call an earlier request with the same Idempotency-Key created.', {
        'Idempotent-Replayed': {
          description: '`true` when an earlier request with the same Idempotency-Key created the call.',
          schema: { type: 'string', enum: ['true'] },
        },
      }),
      ApiProblems(NO_SUCH_APP, {
        400: 'The request is malformed: `invalid_json`, `invalid_idempotency_key` (1 to 255 printable ASCII characters, no spaces), or `invalid_query` (this route takes no query parameters).',
        422: 'The body is not valid: `validation_failed` (with `errors`), `scheduled_at_in_past`, `scheduled_at_too_far`, or `idempotency_key_reused` (the key came with another body).',
      }),
    ),

  list: () =>
    applyDecorators(
      ApiOperation({
        operationId: 'listScheduledCalls',
        summary: 'List scheduled calls',
        description: 'Newest first (by creation); filter by status and by a `scheduled_at` window.',
      }),
      ApiPageResponse('ScheduledCall', 'One page of scheduled calls.'),
      ApiProblems(NO_SUCH_APP),
    ),

  get: () =>
    applyDecorators(
      CALL_ID,
      ApiOperation({ operationId: 'getScheduledCall', summary: 'Get a scheduled call' }),
      ApiScheduledCallResponse(200, 'The scheduled call.'),
      ApiProblems(NO_SUCH_CALL),
    ),

  reschedule: () =>
    applyDecorators(
      CALL_ID,
      ApiOperation({
        operationId: 'rescheduleScheduledCall',
        summary: 'Move a scheduled call to a new time',
        description: 'Fires `scheduled.rescheduled`; the status stays. Rescheduling to the current time changes nothing and fires no event.',
      }),
      ApiScheduledCallResponse(200, 'The call after the change (or unchanged, when it is already at that time).'),
      ApiProblems(NO_SUCH_CALL, INVALID_TRANSITION, {
        422: 'The body is not valid: `validation_failed` (with `errors`), `scheduled_at_in_past` or `scheduled_at_too_far`.',
      }),
    ),

  cancel: () =>
    applyDecorators(
      CALL_ID,
      ApiOperation({
        operationId: 'cancelScheduledCall',
        summary: 'Cancel a scheduled call',
        description: 'Fires `scheduled.cancelled`. Cancelling a cancelled call changes nothing.',
      }),
      ApiScheduledCallResponse(200, 'The cancelled call.'),
      ApiProblems(NO_SUCH_CALL, INVALID_TRANSITION),
    ),

  confirm: () =>
    applyDecorators(
      CALL_ID,
      ApiOperation({
        operationId: 'confirmScheduledCall',
        summary: 'Confirm a pending scheduled call',
        description: 'Fires `scheduled.confirmed`. Confirming a confirmed call changes nothing.',
      }),
      ApiScheduledCallResponse(200, 'The confirmed call.'),
      ApiProblems(NO_SUCH_CALL, INVALID_TRANSITION),
    ),

  join: () =>
    applyDecorators(
      CALL_ID,
      ApiOperation({
        operationId: 'joinScheduledCall',
        summary: 'Record that the guest or the agent joined',
        description: 'Sets `guest_joined_at` or `agent_joined_at` on the first join; fires no event and keeps the version.',
      }),
      ApiScheduledCallResponse(200, 'The call after the join.'),
      ApiProblems(NO_SUCH_CALL, INVALID_TRANSITION),
    ),
};
