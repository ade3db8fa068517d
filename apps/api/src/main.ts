import { Logger } from '@nestjs/common';
import { startupLogFormat } from '@app/shared/config/shared-config';
import { AppLogger, startupLogger } from '@app/shared/logging/app-logger';
import { ConfigError } from '@app/shared/config/env-parsers';
import { redactUrl } from '@app/shared/config/shared-config';
import { prepareDatabase } from '@app/shared/database/prepare-database';
import { assertRedisReachable } from '@app/shared/redis/redis-connection';
import { ServiceUnavailableError } from '@app/shared/startup/service-unavailable.error';
import { createApiApp } from './api-app';
import { readApiConfig } from './config/api-config';

async function main(): Promise<void> {
  const config = readApiConfig();
  // From the first line on, in the configured format (the migration step logs before the app exists).
  const appLogger = new AppLogger({ service: 'api', format: config.logFormat, level: config.logLevel });
  Logger.overrideLogger(appLogger);
  const logger = new Logger('API');
  await assertRedisReachable(config.redisUrl);
  const applied = await prepareDatabase(config.databaseDirectUrl);
  if (applied.length > 0) logger.log(`Applied migrations: ${applied.join(', ')}`);
  if (config.secretsKeyIsDevelopmentDefault) {
    logger.warn('SECRETS_KEY is not set: using the development key. Set SECRETS_KEY (32+ characters) before real use.');
  }
  const app = await createApiApp(config, { logger: appLogger });
  await app.listen({ port: config.port, host: config.host });
  const url = `http://127.0.0.1:${config.port}`;
  logger.log(`API listening on ${url} (docs at ${url}/docs), database ${redactUrl(config.databaseUrl)}`);
  if (config.adminTokenGenerated) {
    // Development only (production refuses to start without ADMIN_TOKEN): printed so the developer can use it.
    logger.warn(`ADMIN_TOKEN is not set; this run's operator token is: ${config.adminToken}`);
  }
}

main().catch((error: unknown) => {
  // One fatal line (JSON in production) before the exit; a configuration or service problem needs no stack.
  const logger = startupLogger('api', startupLogFormat(process.env));
  if (error instanceof ConfigError || error instanceof ServiceUnavailableError) logger.fatal(`api: ${error.message}`, 'API');
  else logger.fatal(`api: failed to start: ${(error as Error)?.message ?? String(error)}`, error, 'API');
  process.exit(1);
});
