import { Module } from '@nestjs/common';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { PipelineMetricsRepository } from './pipeline-metrics.repository';

/** `GET /health` (public) and the operator's Prometheus `GET /metrics`. */
@Module({
  controllers: [HealthController, MetricsController],
  providers: [PipelineMetricsRepository],
})
export class HealthModule {}
