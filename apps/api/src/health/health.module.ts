import { Module } from '@nestjs/common';
import { MetricsController } from '../webhooks/metrics.controller';
import { HealthController } from './health.controller';

/** `GET /health` (public) and the operator's Prometheus `GET /metrics`. */
@Module({
  controllers: [HealthController, MetricsController],
})
export class HealthModule {}
