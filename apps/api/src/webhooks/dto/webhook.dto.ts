import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsInt, IsString, IsUUID, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { ATTEMPT_TRIGGERS, DELIVERY_STATUSES } from '@app/shared/entities';
import { BOOKING_EVENT_TYPES } from '@app/shared/events/booking-events';
import { CIRCUIT_VIEWS } from '@app/shared/webhooks/subscription-health';
import { PageQuery } from '../../common/pagination';
import { IsIsoInstant, Optional } from '../../common/validators';

const EVENT_CHOICES = [...BOOKING_EVENT_TYPES, '*'];

/** `rate_limit_per_second` on create and PATCH: an integer, or null for no limit. */
function RateLimitProperty(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      description: 'Deliveries per second at most, across all workers; the rest wait (neither failed nor counted as attempts). null: no limit.',
      minimum: 1,
      maximum: 100_000,
      nullable: true,
      type: 'integer',
    }),
    Optional(),
    ValidateIf((_, value) => value !== null),
    IsInt(),
    Min(1),
    Max(100_000),
  );
}
const MAX_GRACE_SECONDS = 7 * 86_400;

export class CreateWebhookSubscriptionDto {
  @ApiProperty({
    description: 'Where deliveries are POSTed: http(s), no credentials, not a private address.',
    example: 'https://example.com/webhooks/calls',
    maxLength: 2048,
  })
  @IsString()
  @MaxLength(2048)
  url: string;

  @ApiProperty({
    description: 'Event types to receive, or ["*"] for all.',
    example: ['scheduled.created', 'scheduled.cancelled'],
    enum: EVENT_CHOICES,
    isArray: true,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_CHOICES.length)
  @ArrayUnique()
  @IsIn(EVENT_CHOICES, { each: true, message: `each value in events must be one of ${EVENT_CHOICES.join(', ')}` })
  events: string[];

  @ApiPropertyOptional({ type: String, maxLength: 500, nullable: true })
  @Optional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @MaxLength(500)
  description?: string | null;

  @RateLimitProperty()
  rate_limit_per_second?: number | null;
}

export class UpdateWebhookSubscriptionDto {
  @ApiPropertyOptional({ maxLength: 2048 })
  @Optional()
  @IsString()
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({ enum: EVENT_CHOICES, isArray: true })
  @Optional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_CHOICES.length)
  @ArrayUnique()
  @IsIn(EVENT_CHOICES, { each: true, message: `each value in events must be one of ${EVENT_CHOICES.join(', ')}` })
  events?: string[];

  @ApiPropertyOptional({ type: String, maxLength: 500, nullable: true })
  @Optional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @MaxLength(500)
  description?: string | null;

  @RateLimitProperty()
  rate_limit_per_second?: number | null;
}

export class ResumeWebhookSubscriptionDto {
  @ApiPropertyOptional({ description: 'Send the deliveries held while paused (default true); false marks them failed.', default: true })
  @Optional()
  @IsBoolean()
  replay_held?: boolean;
}

export class RotateSecretDto {
  @ApiPropertyOptional({
    description: "How long deliveries also carry the old secret's signature (X-ApifyCloud-Signature-Previous). 0 retires it at once.",
    default: 86_400,
    type: 'integer',
    minimum: 0,
    maximum: MAX_GRACE_SECONDS,
  })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(MAX_GRACE_SECONDS)
  grace_period_seconds?: number;
}

export class RecoverDeliveriesDto {
  @ApiProperty({ description: 'Re-send the failed deliveries created at or after this instant.', example: '2026-11-27T00:00:00Z' })
  @IsIsoInstant()
  since: string;
}

export class ListDeliveriesQuery extends PageQuery {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @Optional()
  @IsIn(DELIVERY_STATUSES)
  status?: string;

  @ApiPropertyOptional({ enum: BOOKING_EVENT_TYPES, description: 'Deliveries of this event type.' })
  @Optional()
  @IsIn(BOOKING_EVENT_TYPES)
  event?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Deliveries of events that occurred at or after this instant.' })
  @Optional()
  @IsIsoInstant()
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Deliveries of events that occurred before this instant.' })
  @Optional()
  @IsIsoInstant()
  to?: string;

  @ApiPropertyOptional({ format: 'uuid', description: "Deliveries of this booking's events." })
  @Optional()
  @IsUUID('all')
  scheduled_call_id?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The delivery of this event (at most one per subscription).' })
  @Optional()
  @IsUUID('all')
  event_id?: string;
}

const uuid = { format: 'uuid' } as const;
const instant = { type: String, format: 'date-time' } as const;
const instantOrNull = { type: String, format: 'date-time', nullable: true } as const;
const integer = { type: 'integer' } as const;
const httpStatusOrNull = {
  type: 'integer',
  nullable: true,
  description: 'HTTP status of the answer; null when none came (timeout, connection error).',
} as const;

export class LastDeliveryResponse {
  @ApiProperty(uuid) id: string;
  @ApiProperty({ enum: BOOKING_EVENT_TYPES }) event: string;
  @ApiProperty({ ...uuid, type: String, nullable: true, description: 'The booking the event is about; null for a test send.' }) scheduled_call_id:
    string | null;
  @ApiProperty({ ...instant, description: 'When the event occurred (to the millisecond); the delivery log is ordered by it, newest first.' }) event_at: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: string;
  @ApiProperty(integer) attempt_count: number;
  @ApiProperty(httpStatusOrNull) response_status: number | null;
  @ApiProperty({ ...instant, description: 'When the delivery last changed.' }) at: string;
}

export class SubscriptionHealthResponse {
  @ApiProperty({ ...integer, description: 'Failed attempts in a row since the last success.' }) consecutive_failures: number;
  @ApiProperty({ ...instantOrNull, description: 'First failure since the last success.' }) failing_since: string | null;
  @ApiProperty({ ...instantOrNull, description: 'When the subscription will be paused automatically if nothing succeeds before.' }) auto_pause_at:
    string | null;
  @ApiProperty({ enum: CIRCUIT_VIEWS, description: 'open: nothing is attempted until circuit_retry_at; half_open: one probe may go; closed: normal.' })
  circuit: string;
  @ApiProperty({ ...instantOrNull, description: 'When an open circuit lets its probe attempt go.' }) circuit_retry_at: string | null;
  @ApiProperty({ ...integer, description: 'Deliveries held while paused, sent on resume.' }) held_count: number;
}

export class WebhookSubscriptionResponse {
  @ApiProperty(uuid) id: string;
  @ApiProperty(uuid) app_id: string;
  @ApiProperty({ description: 'Where deliveries are POSTed.' }) url: string;
  @ApiProperty({ enum: EVENT_CHOICES, isArray: true, description: 'Event types delivered, or ["*"] for all.' }) events: string[];
  @ApiProperty({ type: String, nullable: true }) description: string | null;
  @ApiProperty({ enum: ['active', 'failing', 'paused'] }) status: string;
  @ApiProperty({
    enum: ['manual', 'auto', 'gone'],
    nullable: true,
    description: 'Why it is paused: by an admin, automatically after failing too long, or because the endpoint answered 410 Gone. null unless paused.',
  })
  paused_reason: string | null;
  @ApiProperty({ type: LastDeliveryResponse, nullable: true, description: 'The most recently changed delivery, or null.' })
  last_delivery: LastDeliveryResponse | null;
  @ApiProperty({ nullable: true, type: 'integer', description: 'Deliveries per second at most; null: no limit.' }) rate_limit_per_second: number | null;
  @ApiProperty({ type: SubscriptionHealthResponse }) health: SubscriptionHealthResponse;
  @ApiProperty({ ...instantOrNull, description: "Until when deliveries also carry the previous secret's signature; null when none." })
  previous_secret_expires_at: string | null;
  @ApiProperty(instant) created_at: string;
  @ApiProperty(instant) updated_at: string;
}

export class WebhookSubscriptionWithSecretResponse extends WebhookSubscriptionResponse {
  @ApiProperty({ description: 'The signing secret (`whsec_…`). Returned by create and rotate only: store it now.' })
  secret: string;
}

export class WebhookDeliveryResponse {
  @ApiProperty(uuid) id: string;
  @ApiProperty(uuid) subscription_id: string;
  @ApiProperty({ ...uuid, description: 'The event id, as in the webhook body and X-ApifyCloud-Event-Id.' }) event_id: string;
  @ApiProperty({ enum: BOOKING_EVENT_TYPES }) event: string;
  @ApiProperty({ ...uuid, type: String, nullable: true, description: 'The booking the event is about; null for a test send.' }) scheduled_call_id:
    string | null;
  @ApiProperty({ ...instant, description: 'When the event occurred (to the millisecond); lists are ordered by it, newest first.' }) event_at: string;
  @ApiProperty({ description: 'True for a test send (`POST …/test`): an example record, one attempt, no booking.' }) test: boolean;
  @ApiProperty({ type: String, nullable: true, description: "The booking's guest name, to tell deliveries apart; null for a test send." }) guest_name:
    string | null;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: string;
  @ApiProperty({ ...integer, description: 'Attempts so far, automatic and manual.' }) attempt_count: number;
  @ApiProperty({ ...instantOrNull, description: 'When the next attempt is due; null when none is.' }) next_attempt_at: string | null;
  @ApiProperty(httpStatusOrNull) last_response_status: number | null;
  @ApiProperty(instant) created_at: string;
  @ApiProperty(instant) updated_at: string;
}

const headerMap = { type: 'object', additionalProperties: { type: 'string' }, nullable: true } as const;

export class WebhookAttemptResponse {
  @ApiProperty({ ...integer, minimum: 1 }) attempt: number;
  @ApiProperty({ enum: ATTEMPT_TRIGGERS, description: 'automatic: the retry schedule; manual: retry or recover; test: a test send.' }) trigger: string;
  @ApiProperty(instant) started_at: string;
  @ApiProperty(integer) duration_ms: number;
  @ApiProperty({
    ...headerMap,
    description:
      'The request headers as sent (lower-case names, in no particular order), signatures included; never a secret. null when no request was made (an error before it, an interrupted or expired attempt).',
  })
  request_headers: Record<string, string> | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The request body as sent, byte for byte (what the signature covers); null when no request was made.',
  })
  request_body: string | null;
  @ApiProperty(httpStatusOrNull) response_status: number | null;
  @ApiProperty({
    ...headerMap,
    description:
      'A few headers of the answer: content-type, content-length, content-encoding, retry-after, location, www-authenticate (each cut at 256 characters); null when no answer came.',
  })
  response_headers: Record<string, string> | null;
  @ApiProperty({ type: String, nullable: true, description: 'First 4 KiB of the response body.' }) response_body: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why the attempt failed, when it did.' }) error: string | null;
}

export class WebhookDeliveryDetailResponse extends WebhookDeliveryResponse {
  @ApiProperty({ type: [WebhookAttemptResponse], description: 'Every attempt, oldest first.' }) attempts: WebhookAttemptResponse[];
}

export class RecoverDeliveriesResponse {
  @ApiProperty({ ...integer, description: 'Failed deliveries queued for another attempt.' }) recovered: number;
}

export class SendTestWebhookDto {
  @ApiPropertyOptional({
    enum: BOOKING_EVENT_TYPES,
    default: 'scheduled.created',
    description: 'The event type to send, with an example record consistent with it.',
  })
  @Optional()
  @IsIn(BOOKING_EVENT_TYPES, { message: `event must be one of ${BOOKING_EVENT_TYPES.join(', ')}` })
  event?: string;
}

/** The windows of `GET …/stats`: how far back, in buckets of how long (aligned to multiples of the bucket since the epoch, UTC). */
export const STATS_WINDOWS = {
  '1h': { bucketSeconds: 300, buckets: 12 },
  '24h': { bucketSeconds: 3_600, buckets: 24 },
  '7d': { bucketSeconds: 21_600, buckets: 28 },
} as const;
export type StatsWindow = keyof typeof STATS_WINDOWS;
const STATS_WINDOW_NAMES = Object.keys(STATS_WINDOWS);

export class SubscriptionStatsQuery {
  @ApiPropertyOptional({ enum: STATS_WINDOW_NAMES, default: '24h', description: '1h: 12 buckets of 5 min; 24h: 24 of 1 h; 7d: 28 of 6 h.' })
  @Optional()
  @IsIn(STATS_WINDOW_NAMES, { message: `window must be one of ${STATS_WINDOW_NAMES.join(', ')}` })
  window?: StatsWindow;
}

const rate = { type: 'number', minimum: 0, maximum: 1, nullable: true, description: 'succeeded / attempts; null when there were no attempts.' } as const;
const latency = (p: number) =>
  ({
    type: 'integer',
    nullable: true,
    description: `${p}th percentile of duration_ms over the attempts that got an HTTP answer (any status); null when none did.`,
  }) as const;

export class StatsCountsResponse {
  @ApiProperty({ ...integer, description: 'Attempts started in the span (automatic and manual; test sends are not counted).' }) attempts: number;
  @ApiProperty({ ...integer, description: 'Attempts answered with a 2xx.' }) succeeded: number;
  @ApiProperty({ ...integer, description: 'The other attempts: any other status, timeouts, connection and internal errors.' }) failed: number;
  @ApiProperty(rate) success_rate: number | null;
  @ApiProperty(latency(50)) latency_p50_ms: number | null;
  @ApiProperty(latency(95)) latency_p95_ms: number | null;
}

export class StatsBucketResponse extends StatsCountsResponse {
  @ApiProperty({ ...instant, description: 'Start of the bucket; it lasts bucket_seconds.' }) start: string;
}

export class SubscriptionStatsResponse {
  @ApiProperty({ enum: STATS_WINDOW_NAMES }) window: string;
  @ApiProperty({ ...integer, description: 'Length of each bucket.' }) bucket_seconds: number;
  @ApiProperty({ ...instant, description: 'Start of the first bucket.' }) from: string;
  @ApiProperty({ ...instant, description: 'End of the last bucket (the one holding now, still filling).' }) to: string;
  @ApiProperty({ type: StatsCountsResponse, description: 'The whole window.' }) totals: StatsCountsResponse;
  @ApiProperty({ type: [StatsBucketResponse], description: 'Every bucket of the window, oldest first, empty ones included (zeros and nulls).' })
  buckets: StatsBucketResponse[];
}
