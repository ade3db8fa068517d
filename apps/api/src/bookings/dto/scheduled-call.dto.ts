import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsEmail, IsIn, IsInt, IsObject, IsString, Length, Matches, Max, MaxLength, Min, ValidateIf, ValidateNested } from 'class-validator';
import { SCHEDULED_CALL_STATUSES } from '@app/shared/entities';
import { PageQuery } from '../../common/pagination';
import { IsBoundedJsonObject, IsIanaTimeZone, IsIsoInstant, Optional } from '../../common/validators';

export const METADATA_MAX_BYTES = 16 * 1024;
const METADATA_MAX_DEPTH = 8;

export class GuestDto {
  @ApiProperty({ maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiProperty({ format: 'email', maxLength: 254 })
  @MaxLength(254)
  @IsEmail()
  email: string;

  @ApiPropertyOptional({ description: 'Phone number, digits with an optional leading +.', example: '+14155550100' })
  @Optional()
  @Matches(/^\+?[0-9][0-9 ().-]{2,30}$/, { message: 'guest.phone must be a phone number such as +14155550100' })
  phone?: string;
}

export class AgentDto {
  @ApiProperty({ description: 'Your identifier for the agent.', maxLength: 128 })
  @IsString()
  @Length(1, 128)
  id: string;

  @ApiPropertyOptional({ maxLength: 200 })
  @Optional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ format: 'email' })
  @Optional()
  @MaxLength(254)
  @IsEmail()
  email?: string;
}

export class CreateScheduledCallDto {
  @ApiProperty({ description: 'Start, ISO-8601 with offset; not in the past.', example: '2026-12-01T09:30:00Z' })
  @IsIsoInstant()
  scheduled_at: string;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: 1440 })
  @IsInt()
  @Min(1)
  @Max(1440)
  duration_minutes: number;

  @ApiPropertyOptional({ description: 'IANA time zone of the participants.', default: 'UTC', example: 'Europe/Paris' })
  @Optional()
  @IsIanaTimeZone()
  timezone?: string;

  @ApiProperty({ type: GuestDto })
  @IsObject()
  @ValidateNested()
  @Type(() => GuestDto)
  guest: GuestDto;

  @ApiPropertyOptional({ type: AgentDto, nullable: true })
  @Optional()
  @ValidateIf((_, value) => value !== null)
  @IsObject()
  @ValidateNested()
  @Type(() => AgentDto)
  agent?: AgentDto | null;

  @ApiPropertyOptional({ description: 'Create as pending_confirmation until the customer confirms.', default: false })
  @Optional()
  @IsBoolean()
  requires_confirmation?: boolean;

  @ApiPropertyOptional({ description: `Your free-form JSON object (at most ${METADATA_MAX_BYTES} bytes).`, type: 'object', additionalProperties: true })
  @Optional()
  @IsBoundedJsonObject(METADATA_MAX_BYTES, METADATA_MAX_DEPTH)
  metadata?: Record<string, unknown>;
}

export class RescheduleScheduledCallDto {
  @ApiProperty({ description: 'New start, ISO-8601 with offset; not in the past.' })
  @IsIsoInstant()
  scheduled_at: string;

  @ApiPropertyOptional({ type: String, maxLength: 500, nullable: true })
  @Optional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @MaxLength(500)
  reason?: string | null;
}

export class CancelScheduledCallDto {
  @ApiPropertyOptional({ type: String, maxLength: 500, nullable: true })
  @Optional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @MaxLength(500)
  reason?: string | null;
}

export class JoinScheduledCallDto {
  @ApiProperty({ enum: ['guest', 'agent'] })
  @IsIn(['guest', 'agent'])
  participant: 'guest' | 'agent';
}

export class ListScheduledCallsQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'One status or several, comma-separated.', example: 'scheduled,confirmed' })
  @Optional()
  @Matches(new RegExp(`^(${SCHEDULED_CALL_STATUSES.join('|')})(,(${SCHEDULED_CALL_STATUSES.join('|')}))*$`), {
    message: `status must be one or more of ${SCHEDULED_CALL_STATUSES.join(', ')}, comma-separated`,
  })
  status?: string;

  @ApiPropertyOptional({
    description:
      'Calls scheduled at or after this instant. With `from` or `to` the list is ordered by `scheduled_at`, latest first (otherwise by `created_at`, newest first).',
  })
  @Optional()
  @IsIsoInstant()
  from?: string;

  @ApiPropertyOptional({ description: 'Calls scheduled before this instant. With `from` or `to` the list is ordered by `scheduled_at`, latest first.' })
  @Optional()
  @IsIsoInstant()
  to?: string;
}
