import { ApiProperty } from '@nestjs/swagger';

export type Check = 'up' | 'down';

export class HealthResponse {
  @ApiProperty({ enum: ['ok', 'degraded'], description: '`ok` when PostgreSQL and Redis both answer.' })
  status: 'ok' | 'degraded';

  @ApiProperty({ enum: ['up', 'down'] })
  postgres: Check;

  @ApiProperty({ enum: ['up', 'down'] })
  redis: Check;
}
