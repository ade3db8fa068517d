import type { RedisOptions } from 'ioredis';

export interface RedisNodeAddress {
  host: string;
  port: number;
}

/**
 * Where REDIS_URL points: one server (`redis://`, `rediss://`, as ioredis and every Redis client read
 * them), or the seed nodes of a Redis Cluster (`redis+cluster://`, `rediss+cluster://`, several
 * `host:port` separated by commas; the client discovers the other nodes from any one of them).
 * `options` carries what every connection shares: credentials, database index (standalone) and TLS.
 */
export type RedisTarget = { kind: 'standalone'; options: RedisOptions } | { kind: 'cluster'; nodes: RedisNodeAddress[]; options: RedisOptions };

const STANDALONE_SCHEMES = new Set(['redis', 'rediss']);
const CLUSTER_SCHEMES = new Set(['redis+cluster', 'rediss+cluster']);
const DEFAULT_PORT = 6379;

/** Reads REDIS_URL; throws an Error whose message says what is wrong and what is expected (never the password). */
export function parseRedisUrl(raw: string): RedisTarget {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
  if (scheme && STANDALONE_SCHEMES.has(scheme)) return { kind: 'standalone', options: standaloneOptions(raw) };
  if (scheme && CLUSTER_SCHEMES.has(scheme)) return clusterTarget(raw, scheme === 'rediss+cluster');
  throw new Error(
    'must start with redis:// or rediss:// (one server), or redis+cluster:// or rediss+cluster:// ' +
      '(a Redis Cluster, e.g. redis+cluster://10.0.0.1:6379,10.0.0.2:6379)',
  );
}

export function isRedisClusterUrl(raw: string): boolean {
  return /^rediss?\+cluster:\/\//i.test(raw);
}

function standaloneOptions(raw: string): RedisOptions {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('is not a valid URL (expected redis://[user:password@]host[:port][/db])');
  }
  if (!url.hostname) throw new Error('names no host (expected redis://[user:password@]host[:port][/db])');
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || DEFAULT_PORT),
    ...credentials(url.username, url.password),
    db: databaseIndex(url.pathname),
    tls: url.protocol === 'rediss:' ? {} : undefined,
  };
}

function databaseIndex(pathname: string): number {
  const path = pathname.replace(/^\//, '');
  if (path === '') return 0;
  if (!/^\d+$/.test(path)) throw new Error(`has "/${path}" as database index (expected a number, e.g. redis://host:6379/2)`);
  return Number(path);
}

/**
 * `redis+cluster://[user:password@]host1:port1,host2:port2[,...][/]`: no database index (a
 * cluster only has database 0) and no query string, so nothing in it is silently ignored.
 */
function clusterTarget(raw: string, tls: boolean): RedisTarget {
  const rest = raw.slice(raw.indexOf('://') + 3);
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const tail = end === -1 ? '' : rest.slice(end);
  if (tail !== '' && tail !== '/' && tail !== '/0') {
    throw new Error(`has "${tail}" after the nodes: a Redis Cluster URL takes no database index (a cluster only has database 0) and no query string`);
  }
  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? '' : authority.slice(0, at);
  const hosts = at === -1 ? authority : authority.slice(at + 1);
  const nodes = hosts.split(',').map((node) => clusterNode(node.trim()));
  const colon = userinfo.indexOf(':');
  const [username, password] = colon === -1 ? [userinfo, ''] : [userinfo.slice(0, colon), userinfo.slice(colon + 1)];
  let decoded: RedisOptions;
  try {
    decoded = credentials(username, password);
  } catch {
    throw new Error('has a user name or password that is not valid percent-encoding');
  }
  return { kind: 'cluster', nodes, options: { ...decoded, tls: tls ? {} : undefined } };
}

function clusterNode(node: string): RedisNodeAddress {
  const hint = 'expected host:port seed nodes separated by commas, e.g. redis+cluster://10.0.0.1:6379,10.0.0.2:6379';
  if (node === '') throw new Error(`has an empty node in its list (${hint})`);
  let url: URL;
  try {
    url = new URL(`redis://${node}`);
  } catch {
    throw new Error(`has "${node}", which is not a host:port (${hint})`);
  }
  if (!url.hostname || url.username || url.password || (url.pathname !== '' && url.pathname !== '/')) {
    throw new Error(`has "${node}", which is not a host:port (${hint})`);
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || DEFAULT_PORT) };
}

function credentials(username: string, password: string): Pick<RedisOptions, 'username' | 'password'> {
  return {
    username: username ? decodeURIComponent(username) : undefined,
    password: password ? decodeURIComponent(password) : undefined,
  };
}

/**
 * The hash tag of a key prefix (`{scw}` -> `scw`), as Redis Cluster reads it: the text between the
 * first `{` and the next `}`, when not empty. Every key that starts with the prefix goes to that
 * tag's slot. Null when the prefix has none; throws when it has a `{` that does not open a tag,
 * because keys built on it would then be hashed on text that varies from key to key.
 */
export function hashTagOf(prefix: string): string | null {
  const open = prefix.indexOf('{');
  if (open === -1) return null;
  const close = prefix.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) {
    throw new Error(`"${prefix}" has a "{" that does not open a hash tag: use one non-empty {tag}, e.g. {scw}, or no braces`);
  }
  return prefix.slice(open + 1, close);
}

/**
 * The key prefix every Redis key of a deployment starts with. On a cluster it must carry a hash
 * tag, so that each BullMQ and scheduler script finds all its keys on one node: a prefix without
 * one is wrapped in braces (`scw` -> `{scw}`). On a single server it is used as configured, so key
 * names stay what they were.
 */
export function effectiveKeyPrefix(prefix: string, cluster: boolean): string {
  const tag = hashTagOf(prefix); // checked on a single server too, so a prefix that would break a cluster is caught before
  return cluster && tag === null ? `{${prefix}}` : prefix;
}
