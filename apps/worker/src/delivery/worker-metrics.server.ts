import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import { WORKER_CONFIG } from '../config/worker-config.module';
import type { WorkerConfig } from '../config/worker-config';
import { WorkerMetrics } from './worker-metrics';

/**
 * GET /metrics on WORKER_METRICS_HOST:WORKER_METRICS_PORT (Prometheus text format), loopback by
 * default: it has no authentication, so exposing it is the operator's explicit choice. The worker
 * has no other HTTP.
 */
@Injectable()
export class WorkerMetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkerMetricsServer.name);
  private server: Server | undefined;

  constructor(
    private readonly metrics: WorkerMetrics,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.metricsPort === 0) return;
    this.server = createServer((request, response) => {
      if (request.url !== '/metrics') {
        response.writeHead(404).end();
        return;
      }
      this.metrics.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
        () => response.writeHead(500).end(),
      );
    });
    this.server.on('error', (error: NodeJS.ErrnoException) => {
      this.logger.warn(
        `Metrics endpoint not started on port ${this.config.metricsPort} (${error.code ?? error.message}); set WORKER_METRICS_PORT to a free port, or 0 to turn it off.`,
      );
      this.server = undefined;
    });
    this.server.listen(this.config.metricsPort, this.config.metricsHost);
  }

  onApplicationShutdown(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
