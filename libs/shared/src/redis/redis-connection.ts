import Redis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';
import { ConfigError } from '../config/env-parsers';
import { ServiceUnavailableError } from '../startup/service-unavailable.error';
import { parseRedisUrl } from './redis-url';

/** A connection to REDIS_URL: one server, or a Redis Cluster (which routes each command to the node of its key's slot). */
export type RedisClient = Redis | Cluster;

/**
 * What one use of Redis asks of its connection, in ioredis's single-server vocabulary. On a
 * cluster, `lazyConnect`, `enableOfflineQueue` and `retryStrategy` (reconnecting when no node
 * answers) apply to the cluster client, the rest to its connection to each node.
 */
export type RedisClientOptions = Pick<
  RedisOptions,
  'lazyConnect' | 'enableOfflineQueue' | 'maxRetriesPerRequest' | 'connectTimeout' | 'commandTimeout' | 'disconnectTimeout' | 'retryStrategy'
>;

/** Every Redis connection of the platform is made here, so each works on one server and on a cluster alike. */
export function createRedisClient(url: string, options: RedisClientOptions = {}): RedisClient {
  const target = parseRedisUrl(url);
  if (target.kind === 'standalone') return new Redis({ ...target.options, ...options });
  const { lazyConnect, enableOfflineQueue, retryStrategy, ...perNode } = options;
  const clusterOptions: ClusterOptions = { redisOptions: { ...target.options, ...perNode } };
  if (lazyConnect !== undefined) clusterOptions.lazyConnect = lazyConnect;
  if (enableOfflineQueue !== undefined) clusterOptions.enableOfflineQueue = enableOfflineQueue;
  if (retryStrategy !== undefined) clusterOptions.clusterRetryStrategy = retryStrategy;
  // Managed clusters announce nodes by host name and their TLS certificates name those hosts:
  // connect by name, not by the address a lookup would turn it into.
  if (target.options.tls) clusterOptions.dnsLookup = (address, callback) => callback(null, address);
  return new Cluster(target.nodes, clusterOptions);
}

/** Resolves once `client` is ready (connected and, on a cluster, knowing every slot's node), or after `ms` regardless. */
export async function whenReady(client: RedisClient, ms: number): Promise<void> {
  if (client.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  await new Promise<void>((resolve) => {
    onReady = resolve;
    client.once('ready', resolve);
    timer = setTimeout(resolve, ms);
  }).finally(() => {
    clearTimeout(timer);
    client.off('ready', onReady!);
  });
}

/** A one-off connection that gives up at once: for the checks at start. */
const PROBE: RedisClientOptions = { lazyConnect: true, connectTimeout: 3_000, maxRetriesPerRequest: 0, retryStrategy: () => null };
/** A cluster whose state is not `ok` (a primary down, slots unassigned) never becomes ready: stop waiting after this. */
const PROBE_READY_MS = 5_000;

/**
 * Fails fast with a one-line message when Redis does not answer a PING, and with a configuration
 * error when the URL's form does not match the server: a cluster node behind redis:// (most
 * commands would be answered MOVED), or a single server behind redis+cluster://.
 */
export async function assertRedisReachable(url: string): Promise<void> {
  const target = parseRedisUrl(url);
  if (target.kind === 'standalone') {
    let clusterEnabled: boolean;
    try {
      clusterEnabled = await probeServer(target.options);
    } catch (error) {
      throw ServiceUnavailableError.redis(url, error);
    }
    if (clusterEnabled) {
      throw new ConfigError(
        'REDIS_URL points at a Redis Cluster node: write it as redis+cluster://host:port[,host:port...] (rediss+cluster:// for TLS) so that each key goes to its node.',
      );
    }
    return;
  }
  const client = createRedisClient(url, PROBE);
  client.on('error', () => undefined);
  try {
    await connectWithin(client, PROBE_READY_MS);
    await client.ping();
  } catch (error) {
    // The cluster client's own error says little ("Connection is closed."): ask the seed nodes why.
    let firstFailure: unknown;
    for (const node of target.nodes) {
      try {
        if (!(await probeServer({ ...target.options, ...node }))) {
          throw new ConfigError(
            `REDIS_URL names a Redis Cluster, but ${node.host}:${node.port} is a single Redis (cluster support disabled): write it as redis://host:port (rediss:// for TLS).`,
          );
        }
      } catch (failure) {
        if (failure instanceof ConfigError) throw failure;
        firstFailure ??= failure;
      }
    }
    // No seed answers, or they answer but the cluster is not usable (its state is not ok).
    throw ServiceUnavailableError.redis(url, firstFailure ?? error);
  } finally {
    client.disconnect();
  }
}

/** PINGs one server; says whether it is a cluster node. */
async function probeServer(options: RedisOptions): Promise<boolean> {
  const client = new Redis({ ...options, ...PROBE });
  let cause: Error | undefined;
  client.on('error', (error: Error) => (cause = error)); // says why (ECONNREFUSED); the rejection only says the connection closed
  try {
    await client.connect();
    await client.ping();
    return /^cluster_enabled:1\s*$/m.test(await client.info('cluster'));
  } catch (error) {
    throw cause ?? error;
  } finally {
    client.disconnect();
  }
}

/**
 * Warnings about a Redis that would evict or forget queued jobs (on a cluster, about each primary).
 * Nothing is lost either way (PostgreSQL is the truth and the sweeper re-queues), but deliveries
 * would be late.
 */
export async function redisDurabilityWarnings(url: string): Promise<string[]> {
  const client = createRedisClient(url, PROBE);
  client.on('error', () => undefined);
  const evicting = new Map<string, string[]>();
  const forgetful: string[] = [];
  try {
    await connectWithin(client, PROBE_READY_MS);
    const servers = client instanceof Cluster ? client.nodes('master') : [client];
    for (const server of servers) {
      const name = client instanceof Cluster ? `${server.options.host}:${server.options.port}` : '';
      try {
        const [, policy] = (await server.config('GET', 'maxmemory-policy')) as [string, string];
        if (policy && policy !== 'noeviction') evicting.set(policy, [...(evicting.get(policy) ?? []), name]);
        const [, appendonly] = (await server.config('GET', 'appendonly')) as [string, string];
        const [, save] = (await server.config('GET', 'save')) as [string, string];
        if (appendonly !== 'yes' && !save) forgetful.push(name);
      } catch {
        // CONFIG is often disabled on managed Redis: nothing to say then.
      }
    }
  } catch {
    // Not reachable: assertRedisReachable says so.
  } finally {
    client.disconnect();
  }
  const which = (names: string[]): string => (names[0] === '' ? 'Redis' : `Redis (${names.join(', ')})`);
  const warnings: string[] = [];
  for (const [policy, names] of evicting) {
    warnings.push(`${which(names)} maxmemory-policy is "${policy}": under memory pressure it may evict queued jobs. Set it to noeviction.`);
  }
  if (forgetful.length > 0) {
    warnings.push(
      `${which(forgetful)} keeps nothing on disk (no AOF, no RDB): a restart empties the queue; the sweeper re-queues due deliveries from PostgreSQL, so they are late, not lost.`,
    );
  }
  return warnings;
}

async function connectWithin(client: RedisClient, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not ready within ${ms} ms${client instanceof Cluster ? ' (CLUSTER INFO must say cluster_state:ok)' : ''}`)), ms);
  });
  const connecting = client.connect();
  connecting.catch(() => undefined); // when the timeout wins, a later failure has no one to tell
  try {
    await Promise.race([connecting, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
