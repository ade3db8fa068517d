import { randomUUID } from 'node:crypto';
import type { ClaimResult, IdempotencyStore } from './store.js';

/**
 * The Redis client you already have: ioredis (`call`) or node-redis v4+ (`sendCommand`).
 * Only raw commands are used, so any client exposing one of the two works.
 */
export type RedisClientLike = { call(command: string, ...args: Array<string | number>): Promise<unknown> } | { sendCommand(args: string[]): Promise<unknown> };

export interface RedisIdempotencyStoreOptions {
  client: RedisClientLike;
  /** Prepended to every key. Default `apifycloud:webhook:`. */
  keyPrefix?: string;
}

const IN_FLIGHT = 'p:';
const COMPLETED = 'c';

// Token-checked, so a slow original whose claim expired cannot clobber the request that took over.
const COMPLETE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`;
const EXTEND_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** Idempotency shared by every instance: `SET NX PX` to claim, token-checked scripts to complete and release. */
/** A client method called with the command's arguments, whichever client library it comes from. */
type AnyFunction = (...args: unknown[]) => unknown;

export class RedisIdempotencyStore implements IdempotencyStore {
  readonly #command: (args: string[]) => Promise<unknown>;
  readonly #prefix: string;

  constructor(options: RedisIdempotencyStoreOptions) {
    const client = options?.client as Partial<{ call: AnyFunction; sendCommand: AnyFunction }> | undefined;
    if (client && typeof client.call === 'function') {
      this.#command = (args) => (client.call as AnyFunction).apply(client, args) as Promise<unknown>;
    } else if (client && typeof client.sendCommand === 'function') {
      this.#command = (args) => (client.sendCommand as AnyFunction).call(client, args) as Promise<unknown>;
    } else {
      throw new TypeError('RedisIdempotencyStore needs `client`: an ioredis or node-redis client.');
    }
    this.#prefix = options.keyPrefix ?? 'apifycloud:webhook:';
  }

  async claim(key: string, inFlightTtlMs: number): Promise<ClaimResult> {
    const redisKey = this.#prefix + key;
    const token = randomUUID();
    const ttl = String(Math.max(1, Math.ceil(inFlightTtlMs)));
    // A key that expires between the failed SET and the GET is simply claimed on the second pass.
    for (let pass = 0; pass < 2; pass++) {
      const set = await this.#command(['SET', redisKey, IN_FLIGHT + token, 'NX', 'PX', ttl]);
      if (set !== null && set !== undefined) return { state: 'claimed', token };
      const value = await this.#command(['GET', redisKey]);
      if (value === null || value === undefined) continue;
      if (String(value) === COMPLETED) return { state: 'completed' };
      const pttl = Number(await this.#command(['PTTL', redisKey]));
      return pttl > 0 ? { state: 'in_flight', retryAfterMs: pttl } : { state: 'in_flight' };
    }
    return { state: 'in_flight' };
  }

  async complete(key: string, token: string, completedTtlMs: number): Promise<void> {
    await this.#command(['EVAL', COMPLETE_SCRIPT, '1', this.#prefix + key, IN_FLIGHT + token, COMPLETED, String(Math.max(1, Math.ceil(completedTtlMs)))]);
  }

  async extend(key: string, token: string, inFlightTtlMs: number): Promise<void> {
    await this.#command(['EVAL', EXTEND_SCRIPT, '1', this.#prefix + key, IN_FLIGHT + token, String(Math.max(1, Math.ceil(inFlightTtlMs)))]);
  }

  async release(key: string, token: string): Promise<void> {
    await this.#command(['EVAL', RELEASE_SCRIPT, '1', this.#prefix + key, IN_FLIGHT + token]);
  }
}
