import { redactUrl } from '../config/shared-config';

/**
 * A dependency that does not answer at start. Its message is the one line an operator needs:
 * which URL, what went wrong, and how to start the service.
 */
export class ServiceUnavailableError extends Error {
  override readonly name = 'ServiceUnavailableError';

  static postgres(url: string, cause: unknown): ServiceUnavailableError {
    return new ServiceUnavailableError(
      `PostgreSQL is not reachable at ${redactUrl(url)} (${describe(cause)}). ` +
        `Start it (e.g. "pg_ctlcluster 15 main start") or point DATABASE_URL at a running server.`,
    );
  }

  static redis(url: string, cause: unknown): ServiceUnavailableError {
    return new ServiceUnavailableError(
      `Redis is not reachable at ${redactUrl(url)} (${describe(cause)}). ` +
        `Start it (e.g. "redis-server --daemonize yes") or point REDIS_URL at a running server.`,
    );
  }
}

function describe(cause: unknown): string {
  if (cause instanceof AggregateError && cause.errors.length > 0) return describe(cause.errors[0]);
  if (cause instanceof Error) return (cause as { code?: string }).code ?? cause.message;
  return String(cause);
}
