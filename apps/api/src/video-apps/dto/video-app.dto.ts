import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, Length, Max, Min } from 'class-validator';
import { Optional } from '../../common/validators';
import type { VideoApp } from '@app/shared/entities';

const MAX_GRACE_MINUTES = 10_080;

export class CreateVideoAppDto {
  @ApiProperty({ description: 'Display name of the video app.', example: 'Acme Video', minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiPropertyOptional({
    description: 'Minutes after scheduled_at before an unjoined call becomes a no-show.',
    default: 15,
    type: 'integer',
    minimum: 0,
    maximum: MAX_GRACE_MINUTES,
  })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(MAX_GRACE_MINUTES)
  no_show_grace_minutes?: number;
}

export class UpdateVideoAppDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @Optional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_GRACE_MINUTES })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(MAX_GRACE_MINUTES)
  no_show_grace_minutes?: number;
}

export class VideoAppResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ type: 'integer', description: 'Minutes after scheduled_at before an unjoined call becomes a no-show.' }) no_show_grace_minutes: number;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;

  static from(app: VideoApp): VideoAppResponse {
    return {
      id: app.id,
      name: app.name,
      no_show_grace_minutes: app.noShowGraceMinutes,
      created_at: app.createdAt.toISOString(),
      updated_at: app.updatedAt.toISOString(),
    };
  }
}

export class CreatedVideoAppResponse extends VideoAppResponse {
  @ApiProperty({ description: 'The app API key. Shown once: store it now; only its digest is kept.' })
  api_key: string;
}
