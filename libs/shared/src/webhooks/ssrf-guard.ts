import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { type DnsCache, type LookupAll, systemLookupAll } from './dns-cache';

/**
 * SSRF protection for subscriber URLs, applied when a URL is saved and again at connect time on
 * the resolved address (so DNS rebinding cannot slip a private address in between).
 */
export class ForbiddenUrlError extends Error {
  override readonly name = 'ForbiddenUrlError';
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

// [network, prefix length] in dotted form; everything that is not the public internet.
const IPV4_BLOCKED: Array<[string, number]> = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function ipv4Blocked(value: number): boolean {
  return IPV4_BLOCKED.some(([network, bits]) => {
    const size = 2 ** (32 - bits);
    const start = ipv4ToInt(network);
    return value >= start && value < start + size;
  });
}

/** 16 bytes of an IPv6 address (handles `::` and a dotted IPv4 tail). */
function ipv6Bytes(address: string): number[] {
  let text = address.toLowerCase().replace(/^\[|\]$/g, '').split('%')[0];
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const v4 = ipv4ToInt(tail[1]);
    text = text.slice(0, -tail[1].length) + `${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const missing = 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array(rest !== undefined ? missing : 0).fill('0'), ...restGroups].map((g) => parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

function embeddedIpv4(bytes: number[], offset: number): number {
  return ((bytes[offset] << 24) >>> 0) + (bytes[offset + 1] << 16) + (bytes[offset + 2] << 8) + bytes[offset + 3];
}

function ipv6Blocked(address: string): boolean {
  const b = ipv6Bytes(address);
  const zeroUpTo = (n: number) => b.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(15) && (b[15] === 0 || b[15] === 1)) return true; // :: and ::1
  if (zeroUpTo(10) && b[10] === 0xff && b[11] === 0xff) return ipv4Blocked(embeddedIpv4(b, 12)); // ::ffff:a.b.c.d mapped
  if (zeroUpTo(12)) return true; // ::a.b.c.d, deprecated IPv4-compatible
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) return ipv4Blocked(embeddedIpv4(b, 12)) || b[4] === 0 && b[5] === 1; // NAT64 64:ff9b::/96 and 64:ff9b:1::/48
  if (b[0] === 0x20 && b[1] === 0x02) return ipv4Blocked(embeddedIpv4(b, 2)); // 6to4 2002::/16
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0 && b[3] === 0) return true; // Teredo 2001::/32 hides an IPv4 address
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return true; // documentation 2001:db8::/32
  if (b[0] === 0x01 && b[1] === 0x00 && b.slice(2, 8).every((x) => x === 0)) return true; // discard 100::/64
  if ((b[0] & 0xfe) === 0xfc) return true; // unique local fc00::/7 (includes fd00:ec2::254 metadata)
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return true; // link-local fe80::/10
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0xc0) return true; // site-local fec0::/10
  if (b[0] === 0xff) return true; // multicast
  return false;
}

/** True for any address a webhook must never reach: loopback, private, link-local, metadata, … */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address.replace(/^\[|\]$/g, '').split('%')[0]);
  if (family === 4) return ipv4Blocked(ipv4ToInt(address));
  if (family === 6) return ipv6Blocked(address);
  return true;
}

export interface UrlCheckOptions {
  allowPrivate: boolean;
}

/** The URL's syntax: http(s), no credentials, a host. WHATWG URL already normalises 2130706433 and 0x7f000001. */
export function parseSubscriberUrl(raw: string, options: UrlCheckOptions): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ForbiddenUrlError('url must be an absolute http or https URL', 'invalid_url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ForbiddenUrlError('url must use http or https', 'invalid_url');
  if (url.username || url.password) throw new ForbiddenUrlError('url must not contain credentials; use the signature to authenticate deliveries', 'invalid_url');
  if (!url.hostname) throw new ForbiddenUrlError('url must name a host', 'invalid_url');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!options.allowPrivate && isIP(host) && isForbiddenAddress(host)) {
    throw new ForbiddenUrlError(`url points to a private, loopback or reserved address (${host})`, 'url_not_allowed');
  }
  return url;
}

/** Resolves the host and refuses it when any answer is forbidden (one private answer is enough). */
export async function resolveAllowedAddresses(hostname: string, options: UrlCheckOptions, lookupAll: LookupAll = systemLookupAll): Promise<LookupAddress[]> {
  return resolveAndCheck(hostname, options, async (host) => {
    try {
      return await lookupAll(host);
    } catch (error) {
      throw new ForbiddenUrlError(`the host ${host} does not resolve (${(error as { code?: string }).code ?? 'DNS error'})`, 'url_unresolvable');
    }
  });
}

/** Lookup errors pass through untouched; the callers decide whether they are a refusal or a network failure. */
async function resolveAndCheck(hostname: string, options: UrlCheckOptions, lookupAll: LookupAll): Promise<LookupAddress[]> {
  const host = hostname.replace(/^\[|\]$/g, '');
  const family = isIP(host);
  if (family) {
    if (!options.allowPrivate && isForbiddenAddress(host)) throw new ForbiddenUrlError(`${host} is a private, loopback or reserved address`, 'url_not_allowed');
    return [{ address: host, family }];
  }
  const addresses = await lookupAll(host);
  if (addresses.length === 0) throw new ForbiddenUrlError(`the host ${host} does not resolve`, 'url_unresolvable');
  if (!options.allowPrivate) {
    const bad = addresses.find((a) => isForbiddenAddress(a.address));
    if (bad) throw new ForbiddenUrlError(`the host ${host} resolves to a private, loopback or reserved address (${bad.address})`, 'url_not_allowed');
  }
  return addresses;
}

export interface GuardedLookupOptions extends UrlCheckOptions {
  /** Shared by the connections of one worker; without it every connection does its own lookup. */
  cache?: DnsCache;
}

/**
 * A `lookup` for net/tls.connect (undici's connect option): resolves, refuses forbidden answers,
 * and hands the socket the checked address, so the connection goes exactly where was checked.
 * The check runs on every call, cached answers included. A failed lookup reaches the socket as the
 * resolver's own error (code ENOTFOUND, EAI_AGAIN, ETIMEOUT, …): a network failure, not a refusal.
 */
export function guardedLookup(options: GuardedLookupOptions) {
  const { cache } = options;
  const lookupAll: LookupAll = cache ? (host) => cache.resolve(host) : systemLookupAll;
  return (hostname: string, opts: { all?: boolean }, callback: (...args: unknown[]) => void): void => {
    resolveAndCheck(hostname, options, lookupAll).then(
      (addresses) => (opts?.all ? callback(null, addresses) : callback(null, addresses[0].address, addresses[0].family)),
      (error: Error) => callback(error),
    );
  };
}
