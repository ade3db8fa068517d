import { Controller, Get, HttpCode, Inject, OnApplicationShutdown, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { createRedisClient, RedisClient } from '@app/shared/redis/redis-connection';
import { Public } from '../common/auth';
import { API_CONFIG } from '../config/api-config.module';
import type { ApiConfig } from '../config/api-config';
import { HealthResponse, type Check } from './dto/health.dto';

/** Liveness and readiness in one: 200 when PostgreSQL and Redis both answer, else 503 saying which. */
@ApiTags('health')
@Controller('health')
export class HealthController implements OnApplicationShutdown {
  private readonly redis: RedisClient;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(API_CONFIG) config: ApiConfig,
  ) {
    // No offline queue: a PING while Redis is down fails at once instead of waiting.
    this.redis = createRedisClient(config.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    this.redis.on('error', () => undefined);
  }

  @Get()
  @Public()
  @HttpCode(200)
  @ApiOperation({ operationId: 'getHealth', summary: 'Check PostgreSQL and Redis', security: [] })
  @ApiOkResponse({ type: HealthResponse, description: 'PostgreSQL and Redis both answer.' })
  @ApiServiceUnavailableResponse({ type: HealthResponse, description: 'PostgreSQL or Redis does not answer; the body says which.' })
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthResponse> {
    const [postgres, redis] = await Promise.all([
      probe(() => this.db.query('SELECT 1')),
      probe(async () => {
        if (this.redis.status === 'wait') await this.redis.connect();
        await this.redis.ping();
      }),
    ]);
    const healthy = postgres === 'up' && redis === 'up';
    if (!healthy) void reply.status(503);
    return { status: healthy ? 'ok' : 'degraded', postgres, redis };
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}

async function probe(check: () => Promise<unknown>): Promise<Check> {
  try {
    await Promise.race([check(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2_000).unref())]);
    return 'up';
  } catch {
    return 'down';
  }
}
