import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsInt, IsString, Max, MaxLength, Min, ValidateIf } from 'class-validator';
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
      minimum: 1, maximum: 100_000, nullable: true, type: 'integer',
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
  @ApiProperty({ description: 'Where deliveries are POSTed: http(s), no credentials, not a private address.', example: 'https://example.com/webhooks/calls', maxLength: 2048 })
  @IsString()
  @MaxLength(2048)
  url: string;

  @ApiProperty({ description: 'Event types to receive, or ["*"] for all.', example: ['scheduled.created', 'scheduled.cancelled'], enum: EVENT_CHOICES, isArray: true })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_CHOICES.length)
  @ArrayUnique()
  @IsIn(EVENT_CHOICES, { each: true, message: `each value in events must be one of ${EVENT_CHOICES.join(', ')}` })
  events: string[];

  @ApiPropertyOptional({ maxLength: 500, nullable: true })
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

  @ApiPropertyOptional({ maxLength: 500, nullable: true })
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
  @ApiPropertyOptional({ description: 'How long deliveries also carry the old secret\'s signature (X-ApifyCloud-Signature-Previous). 0 retires it at once.', default: 86_400, minimum: 0, maximum: MAX_GRACE_SECONDS })
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
  @ApiPropertyOptional({ enum: ['pending', 'retrying', 'succeeded', 'failed', 'held'] })
  @Optional()
  @IsIn(['pending', 'retrying', 'succeeded', 'failed', 'held'])
  status?: string;
}

export class LastDeliveryResponse {
  @ApiProperty() id: string;
  @ApiProperty() event: string;
  @ApiProperty() status: string;
  @ApiProperty() attempt_count: number;
  @ApiProperty({ nullable: true }) response_status: number | null;
  @ApiProperty({ format: 'date-time' }) at: string;
}

export class SubscriptionHealthResponse {
  @ApiProperty({ description: 'Failed attempts in a row since the last success.' }) consecutive_failures: number;
  @ApiProperty({ nullable: true, format: 'date-time', description: 'First failure since the last success.' }) failing_since: string | null;
  @ApiProperty({ nullable: true, format: 'date-time', description: 'When the subscription will be paused automatically if nothing succeeds before.' }) auto_pause_at: string | null;
  @ApiProperty({ enum: CIRCUIT_VIEWS, description: 'open: nothing is attempted until circuit_retry_at; half_open: one probe may go; closed: normal.' }) circuit: string;
  @ApiProperty({ nullable: true, format: 'date-time', description: 'When an open circuit lets its probe attempt go.' }) circuit_retry_at: string | null;
  @ApiProperty({ description: 'Deliveries held while paused, sent on resume.' }) held_count: number;
}

export class WebhookSubscriptionResponse {
  @ApiProperty() id: string;
  @ApiProperty() app_id: string;
  @ApiProperty() url: string;
  @ApiProperty({ isArray: true }) events: string[];
  @ApiProperty({ nullable: true }) description: string | null;
  @ApiProperty({ enum: ['active', 'failing', 'paused'] }) status: string;
  @ApiProperty({ enum: ['manual', 'auto', 'gone'], nullable: true }) paused_reason: string | null;
  @ApiProperty({ type: LastDeliveryResponse, nullable: true }) last_delivery: LastDeliveryResponse | null;
  @ApiProperty({ nullable: true, type: 'integer', description: 'Deliveries per second at most; null: no limit.' }) rate_limit_per_second: number | null;
  @ApiProperty({ type: SubscriptionHealthResponse }) health: SubscriptionHealthResponse;
  @ApiProperty({ description: 'Until when deliveries also carry the previous secret\'s signature.', nullable: true }) previous_secret_expires_at: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export class WebhookSubscriptionWithSecretResponse extends WebhookSubscriptionResponse {
  @ApiProperty({ description: 'The signing secret. Returned by create and rotate only: store it now.' })
  secret: string;
}

export class WebhookDeliveryResponse {
  @ApiProperty() id: string;
  @ApiProperty() subscription_id: string;
  @ApiProperty() event_id: string;
  @ApiProperty() event: string;
  @ApiProperty({ enum: ['pending', 'retrying', 'succeeded', 'failed', 'held'] }) status: string;
  @ApiProperty() attempt_count: number;
  @ApiProperty({ nullable: true }) next_attempt_at: string | null;
  @ApiProperty({ nullable: true }) last_response_status: number | null;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export class WebhookAttemptResponse {
  @ApiProperty() attempt: number;
  @ApiProperty({ enum: ['automatic', 'manual'] }) trigger: string;
  @ApiProperty() started_at: string;
  @ApiProperty() duration_ms: number;
  @ApiProperty({ nullable: true }) response_status: number | null;
  @ApiProperty({ nullable: true, description: 'First 4 KiB of the response body.' }) response_body: string | null;
  @ApiProperty({ nullable: true }) error: string | null;
}

export class WebhookDeliveryDetailResponse extends WebhookDeliveryResponse {
  @ApiProperty({ type: [WebhookAttemptResponse] }) attempts: WebhookAttemptResponse[];
}
