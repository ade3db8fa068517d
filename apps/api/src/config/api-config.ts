import { Env, EnvReader } from '@app/shared/config/env-parsers';
import { generateDevelopmentToken, readSharedConfig, SharedConfig } from '@app/shared/config/shared-config';
import { readTracingConfig, TracingConfig } from '@app/shared/tracing/tracing-config';

/** The API process's settings, read once at boot from the environment (SPEC §7). */
export interface ApiConfig extends SharedConfig {
  port: number;
  host: string;
  adminToken: string;
  /** True when ADMIN_TOKEN was not set and a token was made up for this run (development only). */
  adminTokenGenerated: boolean;
  /** Largest JSON body accepted, in bytes. */
  bodyLimitBytes: number;
  /** A request's headers and body must arrive within this, or the connection is cut (408): no trickled bodies. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open (above the usual 60 s of load balancers). */
  keepAliveTimeoutMs: number;
  /** Open connections per process at most (0: no limit); beyond it new ones are refused. */
  maxConnections: number;
  /**
   * Failed authentications a client address, or a presented key prefix, may make per window
   * before its requests answer 429 (counted in Redis, across every API process).
   */
  authFailureLimit: number;
  /** The window of `authFailureLimit`, from a client's first failure; 1 s to 1 d (Retry-After is in seconds). */
  authFailureWindowMs: number;
  /** OpenTelemetry (OTEL_*): off unless OTEL_EXPORTER_OTLP_ENDPOINT is set. */
  tracing: TracingConfig;
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
    requestTimeoutMs: reader.duration('REQUEST_TIMEOUT', '30s'),
    keepAliveTimeoutMs: reader.duration('KEEP_ALIVE_TIMEOUT', '65s'),
    maxConnections: reader.int('MAX_CONNECTIONS', 10_000, 0, 1_000_000),
    authFailureLimit: reader.int('AUTH_FAILURE_LIMIT', 20, 1, 1_000_000),
    authFailureWindowMs: reader.duration('AUTH_FAILURE_WINDOW', '1m'),
    tracing: readTracingConfig(reader, 'scheduled-calls-api'),
  };
  if (config.authFailureWindowMs < 1_000 || config.authFailureWindowMs > 86_400_000) {
    reader.problems.push(`AUTH_FAILURE_WINDOW must be from 1s to 1d (got "${env.AUTH_FAILURE_WINDOW}")`);
  }
  reader.assertValid('API');
  return config;
}
