import { AsyncLocalStorage } from 'node:async_hooks';

/** Fields every log line written inside a unit of work carries: a request's id, a delivery's ids. */
export type LogFields = Record<string, string | number>;

const storage = new AsyncLocalStorage<LogFields>();

/**
 * Runs `fn` as a unit of work: these fields, and only these (never those of a unit it was started
 * from), are on every line it and what it awaits log.
 */
export function withLogFields<T>(fields: LogFields, fn: () => T): T {
  return storage.run({ ...fields }, fn);
}

/** Adds fields to the current unit of work, once they are known (a delivery's event after its claim). No-op outside one. */
export function addLogFields(fields: LogFields): void {
  const store = storage.getStore();
  if (store) Object.assign(store, fields);
}

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
