import { Env, EnvReader } from '@app/shared/config/env-parsers';
import { generateDevelopmentToken, readSharedConfig, SharedConfig } from '@app/shared/config/shared-config';

/** The API process's settings, read once at boot from the environment (SPEC §7). */
export interface ApiConfig extends SharedConfig {
  port: number;
  host: string;
  adminToken: string;
  /** True when ADMIN_TOKEN was not set and a token was made up for this run (development only). */
  adminTokenGenerated: boolean;
  /** Largest JSON body accepted, in bytes. */
  bodyLimitBytes: number;
}


export function readApiConfig(env: Env = process.env): ApiConfig {
  const reader = new EnvReader(env);
  const shared = readSharedConfig(reader, env);
  const adminToken = reader.string('ADMIN_TOKEN');
  if (shared.production && !adminToken) reader.problems.push('ADMIN_TOKEN is required when NODE_ENV=production');
  if (adminToken !== undefined && adminToken.length < 16) reader.problems.push('ADMIN_TOKEN must be at least 16 characters');
  const config: ApiConfig = {
    ...shared,
    port: reader.int('PORT', 3000, 0, 65535),
    host: reader.string('HOST', '0.0.0.0'),
    adminToken: adminToken ?? generateDevelopmentToken(),
    adminTokenGenerated: adminToken === undefined,
    bodyLimitBytes: reader.int('BODY_LIMIT_BYTES', 64 * 1024, 1024, 10 * 1024 * 1024),
  };
  reader.assertValid('API');
  return config;
}

