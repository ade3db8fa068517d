import { AsyncLocalStorage } from 'node:async_hooks';

/** Fields every log line written inside a unit of work carries (an API request's id). */
export type LogFields = Record<string, string | number>;

const storage = new AsyncLocalStorage<LogFields>();

/** The fields of the current unit of work, or nothing. */
export function currentLogFields(): LogFields | undefined {
  return storage.getStore();
}

/**
 * Runs `fn` inside exactly this set of fields (the same object, so fields added later in it stay):
 * for re-entering a unit of work from a callback that lost it, as Fastify's hooks do after reading a body.
 */
export function runWithLogFields<T>(fields: LogFields, fn: () => T): T {
  return storage.run(fields, fn);
}
