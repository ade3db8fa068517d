import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { readWorkerConfig } from '../../apps/worker/src/config/worker-config';
import { WorkerModule } from '../../apps/worker/src/worker.module';
import { AppLogger } from '../../libs/shared/src/logging/app-logger';
import type { TracingOverrides } from '../../libs/shared/src/tracing/tracing';
import type { TestApi } from './test-api';

/** Quick loops for tests: sweeps every 200 ms, short leases, no metrics port, no no-show polling. */
export const FAST_WORKER_ENV = {
  WEBHOOK_SWEEP_INTERVAL: '200ms',
  WEBHOOK_SWEEP_GRACE: '500ms',
  WEBHOOK_LEASE_MARGIN: '1s',
  WORKER_METRICS_PORT: '0',
  NO_SHOW_INTERVAL: '1h',
  WORKER_CONCURRENCY: '20',
};

export interface TestWorker {
  app: INestApplicationContext;
  close(): Promise<void>;
}

/** The real worker module, in-process, on the same database and Redis prefix as `api` (real clock). */
export async function startTestWorker(api: TestApi, env: Record<string, string> = {}, tracing?: TracingOverrides): Promise<TestWorker> {
  const config = readWorkerConfig({ ...api.env, ...FAST_WORKER_ENV, ...env });
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, undefined, tracing), {
    logger: new AppLogger({ service: 'worker', format: 'text', level: 'error' }),
  });
  await app.init();
  return { app, close: () => app.close() };
}
