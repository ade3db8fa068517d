import { Logger } from '@nestjs/common';
import { startupLogFormat } from '@app/shared/config/shared-config';
import { AppLogger, startupLogger } from '@app/shared/logging/app-logger';
import { NestFactory } from '@nestjs/core';
import { ConfigError } from '@app/shared/config/env-parsers';
import { prepareDatabase } from '@app/shared/database/prepare-database';
import { assertRedisReachable, redisDurabilityWarnings } from '@app/shared/redis/redis-connection';
import { ServiceUnavailableError } from '@app/shared/startup/service-unavailable.error';
import { readWorkerConfig } from './config/worker-config';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  const config = readWorkerConfig();
  // From the first line on, in the configured format (the migration step logs before the app exists).
  const appLogger = new AppLogger({ service: 'worker', format: config.logFormat, level: config.logLevel });
  Logger.overrideLogger(appLogger);
  await assertRedisReachable(config.redisUrl);
  // Same advisory-locked migration step as the API, so a worker started first (or alone) works too.
  await prepareDatabase(config.databaseDirectUrl);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), {
    logger: appLogger,
  });
  app.enableShutdownHooks();
  const logger = new Logger('Worker');
  for (const warning of await redisDurabilityWarnings(config.redisUrl)) logger.warn(warning);
  logger.log(
    `Worker started (pid ${process.pid}, concurrency ${config.concurrency}${config.metricsPort ? `, metrics on :${config.metricsPort}/metrics` : ''})`,
  );
}

main().catch((error: unknown) => {
  // One fatal line (JSON in production) before the exit; a configuration or service problem needs no stack.
  const logger = startupLogger('worker', startupLogFormat(process.env));
  if (error instanceof ConfigError || error instanceof ServiceUnavailableError) logger.fatal(`worker: ${error.message}`, 'Worker');
  else logger.fatal(`worker: failed to start: ${(error as Error)?.message ?? String(error)}`, error, 'Worker');
  process.exit(1);
});
