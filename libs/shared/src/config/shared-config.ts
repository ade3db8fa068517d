import { randomBytes } from 'node:crypto';
import { effectiveKeyPrefix, isRedisClusterUrl, parseRedisUrl } from '../redis/redis-url';
import { Env, EnvReader } from './env-parsers';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/scheduled_calls';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Settings both processes read the same way. */
export interface SharedConfig {
  production: boolean;
  databaseUrl: string;
  /**
   * PostgreSQL itself (or a session-mode pool), for what needs a session of its own: the migration
   * step's advisory lock at start and the worker's LISTEN. DATABASE_DIRECT_URL, or DATABASE_URL; set
   * it when DATABASE_URL is a transaction-mode PgBouncer, which cannot keep either.
   */
  databaseDirectUrl: string;
  databasePoolSize: number;
  /** One server (`redis://`, `rediss://`) or a Redis Cluster's seed nodes (`redis+cluster://h1:p1,h2:p2`). */
  redisUrl: string;
  /**
   * Prefix of every Redis key, so several deployments (or test runs) share one Redis. On a cluster
   * it carries a hash tag (QUEUE_PREFIX `scw` becomes `{scw}`), so each script's keys share a slot.
   */
  queuePrefix: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** `json` (one object per line, for a log pipeline; the default in production) or `text` (for a terminal). */
  logFormat: 'json' | 'text';
  /** Encrypts subscription secrets at rest. */
  secretsKey: string;
  /** True when SECRETS_KEY was not set and the well-known development key is in use. */
  secretsKeyIsDevelopmentDefault: boolean;
  webhooks: WebhookConfig;
}

/** Delivery rules (SPEC §3, §7). Every number is configurable so tests run the schedule in seconds. */
export interface WebhookConfig {
  /** Delay before each attempt, first one included; its length is the number of attempts. */
  retrySchedule: number[];
  timeoutMs: number;
  failingAfter: number;
  autoPauseAfterMs: number;
  allowPrivateUrls: boolean;
  /** Upper bound for a Retry-After delay asked by a 429 or 503. */
  maxRetryAfterMs: number;
  /** Timeouts or connection failures in a row that open a subscription's circuit. */
  circuitFailureThreshold: number;
  /** First cool-down of an open circuit; it doubles with each re-opening, up to the maximum. */
  circuitCooldownMs: number;
  circuitMaxCooldownMs: number;
  /**
   * How long deliveries, their attempts and their events are kept (SPEC §7). Unfinished deliveries
   * older than this are ended; history is dropped a week at a time, once all of the week is older.
   */
  retentionMs: number;
}

// Only ever used outside production, with a warning at start.
const DEVELOPMENT_SECRETS_KEY = 'development-only-secrets-key-do-not-use-in-production';

export function readSharedConfig(reader: EnvReader, env: Env): SharedConfig {
  const logLevel = reader.string('LOG_LEVEL', 'info');
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    reader.problems.push(`LOG_LEVEL must be debug, info, warn or error (got "${logLevel}")`);
  }
  const production = env.NODE_ENV === 'production';
  const logFormat = reader.string('LOG_FORMAT', production ? 'json' : 'text');
  if (!['json', 'text'].includes(logFormat)) reader.problems.push(`LOG_FORMAT must be json or text (got "${logFormat}")`);
  const retrySchedule = reader.durationList('WEBHOOK_RETRY_SCHEDULE', '0s,5s,5m,30m,2h,5h,10h,10h');
  const redisUrl = readRedisUrl(reader);
  const secretsKey = reader.string('SECRETS_KEY');
  if (production && !secretsKey) reader.problems.push('SECRETS_KEY is required when NODE_ENV=production (32 or more characters)');
  if (secretsKey !== undefined && secretsKey.length < 32) reader.problems.push('SECRETS_KEY must be at least 32 characters');
  const databaseUrl = reader.url('DATABASE_URL', DEFAULT_DATABASE_URL, ['postgres:', 'postgresql:']);
  return {
    production,
    databaseUrl,
    databaseDirectUrl: reader.url('DATABASE_DIRECT_URL', databaseUrl, ['postgres:', 'postgresql:']),
    databasePoolSize: reader.int('DATABASE_POOL_SIZE', 20, 1, 500),
    redisUrl,
    queuePrefix: readQueuePrefix(reader, isRedisClusterUrl(redisUrl)),
    logLevel: logLevel as SharedConfig['logLevel'],
    logFormat: logFormat as SharedConfig['logFormat'],
    secretsKey: secretsKey ?? DEVELOPMENT_SECRETS_KEY,
    secretsKeyIsDevelopmentDefault: secretsKey === undefined,
    webhooks: {
      retrySchedule,
      timeoutMs: reader.int('WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
      failingAfter: reader.int('WEBHOOK_FAILING_AFTER', 3, 1, 1_000),
      autoPauseAfterMs: reader.duration('WEBHOOK_AUTO_PAUSE_AFTER', '5d'),
      allowPrivateUrls: reader.bool('WEBHOOK_ALLOW_PRIVATE_URLS', false),
      maxRetryAfterMs: reader.duration('WEBHOOK_MAX_RETRY_AFTER', '1h'),
      circuitFailureThreshold: reader.int('WEBHOOK_CIRCUIT_FAILURES', 5, 1, 1_000),
      circuitCooldownMs: reader.duration('WEBHOOK_CIRCUIT_COOLDOWN', '30s'),
      circuitMaxCooldownMs: reader.duration('WEBHOOK_CIRCUIT_MAX_COOLDOWN', '10m'),
      retentionMs: readRetention(reader, retrySchedule),
    },
  };
}

const DAY_MS = 86_400_000;

function readRetention(reader: EnvReader, retrySchedule: number[]): number {
  const retentionMs = reader.duration('WEBHOOK_RETENTION', '30d');
  const scheduleMs = retrySchedule.reduce((sum, ms) => sum + ms, 0);
  if (retentionMs < DAY_MS) reader.problems.push('WEBHOOK_RETENTION must be at least 1d');
  else if (retentionMs <= scheduleMs) {
    reader.problems.push(
      `WEBHOOK_RETENTION must be longer than the retry schedule (${Math.ceil(scheduleMs / 3_600_000)} h), or deliveries would expire while still being retried`,
    );
  }
  return retentionMs;
}

function readRedisUrl(reader: EnvReader): string {
  const raw = reader.string('REDIS_URL', DEFAULT_REDIS_URL);
  try {
    parseRedisUrl(raw);
    return raw;
  } catch (error) {
    reader.problems.push(`REDIS_URL ${(error as Error).message} (got "${redactUrl(raw)}")`);
    return DEFAULT_REDIS_URL;
  }
}

function readQueuePrefix(reader: EnvReader, cluster: boolean): string {
  const raw = reader.string('QUEUE_PREFIX', 'scw');
  try {
    return effectiveKeyPrefix(raw, cluster);
  } catch (error) {
    reader.problems.push(`QUEUE_PREFIX: ${(error as Error).message}`);
    return effectiveKeyPrefix('scw', cluster);
  }
}

/** The database URL alone, for the migration CLI. */
export function readDatabaseUrl(env: Env = process.env): string {
  const reader = new EnvReader(env);
  const url = reader.url('DATABASE_URL', DEFAULT_DATABASE_URL, ['postgres:', 'postgresql:']);
  reader.assertValid('database');
  return url;
}

/** A throwaway token for development, printed once at start so the developer can use it. */
export function generateDevelopmentToken(): string {
  return `dev_${randomBytes(24).toString('base64url')}`;
}

/** Hides the password of a connection URL before it is printed. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    // Not a WHATWG URL, e.g. a Redis Cluster's node list: hide what follows the user name, up to the last '@'.
    const match = /^([a-z][a-z0-9+.-]*:\/\/)(?:(.*)@)?([^@]*)$/i.exec(raw);
    if (!match) return '<invalid url>';
    const userinfo = match[2] === undefined ? '' : `${match[2].replace(/:.*$/, ':***')}@`;
    return `${match[1]}${userinfo}${match[3]}`;
  }
}

/**
 * LOG_FORMAT as far as it can be read when the configuration as a whole could not: the start
 * failure is then still written in the format a log pipeline expects.
 */
export function startupLogFormat(env: Env): 'json' | 'text' {
  if (env.LOG_FORMAT === 'json' || env.LOG_FORMAT === 'text') return env.LOG_FORMAT;
  return env.NODE_ENV === 'production' ? 'json' : 'text';
}
