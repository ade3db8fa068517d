import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError } from '@app/shared/config/env-parsers';
import { prepareDatabase } from '@app/shared/database/prepare-database';
import { assertRedisReachable, redisDurabilityWarnings } from '@app/shared/redis/redis-connection';
import { ServiceUnavailableError } from '@app/shared/startup/service-unavailable.error';
import { readWorkerConfig } from './config/worker-config';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  const config = readWorkerConfig();
  await assertRedisReachable(config.redisUrl);
  // Same advisory-locked migration step as the API, so a worker started first (or alone) works too.
  await prepareDatabase(config.databaseDirectUrl);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), {
    logger: config.logLevel === 'debug' ? ['fatal', 'error', 'warn', 'log', 'debug'] : ['fatal', 'error', 'warn', 'log'],
  });
  app.enableShutdownHooks();
  const logger = new Logger('Worker');
  for (const warning of await redisDurabilityWarnings(config.redisUrl)) logger.warn(warning);
  logger.log(`Worker started (pid ${process.pid}, concurrency ${config.concurrency}${config.metricsPort ? `, metrics on :${config.metricsPort}/metrics` : ''})`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof ServiceUnavailableError) {
    console.error(`worker: ${error.message}`);
  } else {
    console.error('worker: failed to start:', error);
  }
  process.exit(1);
});
