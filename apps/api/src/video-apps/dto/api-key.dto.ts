import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import type { ApiKeyRecord } from '../api-keys.repository';

const MAX_NAME_LENGTH = 100;

export class CreateApiKeyDto {
  @ApiPropertyOptional({
    description: 'A label to tell keys apart (where the key is deployed, who holds it). Omitted or null: no name.',
    type: String,
    example: 'billing backend',
    minLength: 1,
    maxLength: MAX_NAME_LENGTH,
    nullable: true,
  })
  @IsOptional()
  @IsString()
  @Length(1, MAX_NAME_LENGTH)
  name?: string | null;
}

/** An API key as listed: never the key itself, never its digest. */
export class ApiKeyResponse {
  @ApiProperty({ format: 'uuid' }) id: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The label given at creation; keys made by POST /v1/apps are named "default".',
    example: 'billing backend',
  })
  name: string | null;

  @ApiProperty({ description: 'The first characters of the key, to tell keys apart without seeing them.', example: 'scw_ak_Xy3_9a' })
  prefix: string;

  @ApiProperty({ format: 'date-time' }) created_at: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the key last authenticated a request, to within a minute (uses are recorded in batches); null if never.',
  })
  last_used_at: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the key was revoked; a revoked key is refused (401) by every API process within 1 s. null while active.',
  })
  revoked_at: string | null;

  static from(record: ApiKeyRecord): ApiKeyResponse {
    return {
      id: record.id,
      name: record.name,
      prefix: record.prefix,
      created_at: record.createdAt.toISOString(),
      last_used_at: record.lastUsedAt?.toISOString() ?? null,
      revoked_at: record.revokedAt?.toISOString() ?? null,
    };
  }
}

export class CreatedApiKeyResponse extends ApiKeyResponse {
  @ApiProperty({ description: 'The API key. Shown once: store it now; only its SHA-256 digest is kept.', example: 'scw_ak_Xy3_9a…' })
  api_key: string;
}

export class ApiKeyListResponse {
  @ApiProperty({ type: [ApiKeyResponse], description: 'Newest first, revoked keys included.' })
  data: ApiKeyResponse[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page.' })
  next_cursor: string | null;
}
