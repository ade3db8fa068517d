import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { type DnsCache, type LookupAll, systemLookupAll } from './dns-cache';

/**
 * SSRF protection for subscriber URLs, applied when a URL is saved and again at connect time on
 * the resolved address (so DNS rebinding cannot slip a private address in between).
 */
export class ForbiddenUrlError extends Error {
  override readonly name = 'ForbiddenUrlError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** One entry of IANA's special-purpose address registries (or a range the registries leave out). */
interface SpecialRange {
  /** CIDR, as the registry writes it. */
  block: string;
  /** The registry's name for it; shown only when the caller typed an address in this range. */
  name: string;
  /**
   * Byte offset of an IPv4 address this range carries. Such an address is judged by the IPv4
   * address alone: it reaches (or is translated to) that host. Without it, the whole range is refused.
   */
  carriesIpv4At?: number;
}

// IANA IPv4 Special-Purpose Address Registry, plus multicast. Every entry is refused. A few are
// "globally reachable" in the registry (192.0.0.9/32, 192.0.0.10/32, 192.31.196.0/24, 192.52.193.0/24,
// 192.175.48.0/24): they are anycast service addresses (PCP, TURN, AS112, AMT), never a subscriber's
// webhook endpoint, so refusing them costs nothing and keeps one simple rule. Sub-blocks of 192.0.0.0/24
// are listed only so a typed address is refused with its own name.
const IPV4_SPECIAL: readonly SpecialRange[] = [
  { block: '0.0.0.0/8', name: '"this network"' },
  { block: '10.0.0.0/8', name: 'private-use' },
  { block: '100.64.0.0/10', name: 'shared address space (carrier-grade NAT)' },
  { block: '127.0.0.0/8', name: 'loopback' },
  { block: '169.254.0.0/16', name: 'link-local (cloud metadata)' },
  { block: '172.16.0.0/12', name: 'private-use' },
  { block: '192.0.0.0/24', name: 'IETF protocol assignments' },
  { block: '192.0.0.0/29', name: 'IPv4 service continuity prefix (DS-Lite)' },
  { block: '192.0.0.8/32', name: 'IPv4 dummy address' },
  { block: '192.0.0.9/32', name: 'Port Control Protocol anycast' },
  { block: '192.0.0.10/32', name: 'TURN anycast' },
  { block: '192.0.0.170/31', name: 'NAT64/DNS64 discovery' },
  { block: '192.0.2.0/24', name: 'documentation (TEST-NET-1)' },
  { block: '192.31.196.0/24', name: 'AS112-v4' },
  { block: '192.52.193.0/24', name: 'AMT' },
  { block: '192.88.99.0/24', name: 'deprecated 6to4 relay anycast' },
  { block: '192.168.0.0/16', name: 'private-use' },
  { block: '192.175.48.0/24', name: 'direct delegation AS112 service' },
  { block: '198.18.0.0/15', name: 'benchmarking' },
  { block: '198.51.100.0/24', name: 'documentation (TEST-NET-2)' },
  { block: '203.0.113.0/24', name: 'documentation (TEST-NET-3)' },
  { block: '224.0.0.0/4', name: 'multicast' },
  { block: '240.0.0.0/4', name: 'reserved' },
  { block: '255.255.255.255/32', name: 'limited broadcast' },
];

// IANA IPv6 Special-Purpose Address Registry, plus multicast, the deprecated site-local and
// IPv4-compatible ranges, and RFC 2765's IPv4-translated range. All refused but three, which carry
// an IPv4 address and are judged by it: IPv4-mapped (a dual-stack socket connects to the IPv4 host),
// the NAT64 well-known prefix (an IPv6-only host with DNS64 is handed these for every IPv4-only
// subscriber; RFC 6052 forbids it for private IPv4 anyway) and 6to4. The "globally reachable" anycast
// entries of 2001::/23 (2001:1::1/128, 2001:1::2/128, 2001:1::3/128, 2001:3::/32, 2001:4:112::/48) and
// 2620:4f:8000::/48 (AS112) are refused like the rest, for the same reason as their IPv4 twins.
// Anything else outside 2000::/3 is refused as well (see isForbiddenIpv6), so a future registry entry
// there is covered before it is listed; entries inside 2000::/3 must be listed.
const IPV6_SPECIAL: readonly SpecialRange[] = [
  { block: '::/128', name: 'unspecified' },
  { block: '::1/128', name: 'loopback' },
  { block: '::/96', name: 'IPv4-compatible (deprecated)' },
  { block: '::ffff:0:0/96', name: 'IPv4-mapped', carriesIpv4At: 12 },
  // RFC 2765 SIIT, dropped by RFC 6145: nothing public lives here, and a translator on the path
  // would deliver ::ffff:0:7f00:1 to 127.0.0.1, so the whole range is refused whatever it carries.
  { block: '::ffff:0:0:0/96', name: 'IPv4-translated (SIIT)' },
  { block: '64:ff9b::/96', name: 'NAT64 well-known prefix', carriesIpv4At: 12 },
  { block: '64:ff9b:1::/48', name: 'NAT64 local-use prefix' },
  { block: '100::/64', name: 'discard-only' },
  { block: '100:0:0:1::/64', name: 'dummy IPv6 prefix' },
  { block: '2001::/23', name: 'IETF protocol assignments' },
  { block: '2001::/32', name: 'Teredo' }, // the IPv4 address inside is obfuscated and the relay is anyone's
  { block: '2001:1::1/128', name: 'Port Control Protocol anycast' },
  { block: '2001:1::2/128', name: 'TURN anycast' },
  { block: '2001:1::3/128', name: 'DNS-SD service registration protocol anycast' },
  { block: '2001:2::/48', name: 'benchmarking' },
  { block: '2001:3::/32', name: 'AMT' },
  { block: '2001:4:112::/48', name: 'AS112-v6' },
  { block: '2001:10::/28', name: 'ORCHID (deprecated)' },
  { block: '2001:20::/28', name: 'ORCHIDv2' },
  { block: '2001:30::/28', name: 'drone remote ID (DET)' },
  { block: '2001:db8::/32', name: 'documentation' },
  { block: '2002::/16', name: '6to4', carriesIpv4At: 2 },
  { block: '2620:4f:8000::/48', name: 'direct delegation AS112 service' },
  { block: '3fff::/20', name: 'documentation' },
  { block: '5f00::/16', name: 'segment routing (SRv6) SIDs' },
  { block: 'fc00::/7', name: 'unique local' }, // includes fd00:ec2::254, AWS's IPv6 metadata endpoint
  { block: 'fe80::/10', name: 'link-local' },
  { block: 'fec0::/10', name: 'site-local (deprecated)' },
  { block: 'ff00::/8', name: 'multicast' },
];

interface CompiledRange extends SpecialRange {
  network: bigint;
  /** How far to shift an address right to keep only its first `prefix` bits. */
  shift: bigint;
}

/** Longest prefix first, so the first range that matches is the most specific one. */
function compile(ranges: readonly SpecialRange[], width: number, parse: (address: string) => bigint): CompiledRange[] {
  return ranges
    .map((range) => {
      const [address, prefix] = range.block.split('/');
      const shift = BigInt(width - Number(prefix));
      return { ...range, network: parse(address) >> shift, shift };
    })
    .sort((a, b) => Number(a.shift - b.shift));
}

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv4Text(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/** 16 bytes of an IPv6 address (handles `::` and a dotted IPv4 tail). */
function ipv6Bytes(address: string): number[] {
  let text = address.toLowerCase();
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const v4 = Number(ipv4Value(tail[1]));
    text = text.slice(0, -tail[1].length) + `${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const missing = 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array(rest !== undefined ? missing : 0).fill('0'), ...restGroups].map((g) => parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

function bytesValue(bytes: number[]): bigint {
  return bytes.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
}

const IPV4_RANGES = compile(IPV4_SPECIAL, 32, ipv4Value);
const IPV6_RANGES = compile(IPV6_SPECIAL, 128, (address) => bytesValue(ipv6Bytes(address)));

function mostSpecific(ranges: CompiledRange[], value: bigint): CompiledRange | undefined {
  return ranges.find((range) => value >> range.shift === range.network);
}

/** The rule an IPv4 address breaks ("127.0.0.0/8 loopback"), or null when a webhook may reach it. */
function ipv4Refusal(value: bigint): string | null {
  const range = mostSpecific(IPV4_RANGES, value);
  return range ? `${range.block} ${range.name}` : null;
}

function ipv6Refusal(bytes: number[]): string | null {
  const range = mostSpecific(IPV6_RANGES, bytesValue(bytes));
  if (range?.carriesIpv4At !== undefined) {
    const ipv4 = bytesValue(bytes.slice(range.carriesIpv4At, range.carriesIpv4At + 4));
    const inner = ipv4Refusal(ipv4);
    return inner && `${range.block} ${range.name} carrying ${ipv4Text(ipv4)}, ${inner}`;
  }
  if (range) return `${range.block} ${range.name}`;
  // IANA allocates global unicast from 2000::/3 only; the rest is reserved, so a host reachable there
  // (through some local route) is not on the public internet.
  if (bytes[0] >> 5 !== 0b001) return 'outside 2000::/3, the only global unicast IPv6 space';
  return null;
}

/** Why a webhook may not reach this address, naming the range; null when it may. */
function refusalOf(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, '').split('%')[0];
  const family = isIP(bare);
  if (family === 4) return ipv4Refusal(ipv4Value(bare));
  if (family === 6) return ipv6Refusal(ipv6Bytes(bare));
  return 'not an IP address';
}

/** True for any address a webhook must never reach: loopback, private, link-local, metadata, … */
export function isForbiddenAddress(address: string): boolean {
  return refusalOf(address) !== null;
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
  if (url.username || url.password)
    throw new ForbiddenUrlError('url must not contain credentials; use the signature to authenticate deliveries', 'invalid_url');
  if (!url.hostname) throw new ForbiddenUrlError('url must name a host', 'invalid_url');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const refusal = !options.allowPrivate && isIP(host) ? refusalOf(host) : null;
  // The caller typed this address, so naming its range tells them nothing they did not know.
  if (refusal) throw new ForbiddenUrlError(`url points to ${host}, an address webhooks may not reach (refused: ${refusal})`, 'url_not_allowed');
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
    const refusal = options.allowPrivate ? null : refusalOf(host);
    if (refusal) throw new ForbiddenUrlError(`${host} is an address webhooks may not reach (refused: ${refusal})`, 'url_not_allowed');
    return [{ address: host, family }];
  }
  const addresses = await lookupAll(host);
  if (addresses.length === 0) throw new ForbiddenUrlError(`the host ${host} does not resolve`, 'url_unresolvable');
  // One message whatever the answer: naming the address, or even its kind, would let a tenant map
  // the internal DNS by registering names and reading the refusals (or the failed attempts' errors).
  if (!options.allowPrivate && addresses.some((a) => isForbiddenAddress(a.address))) {
    throw new ForbiddenUrlError(`the host ${host} resolves to an address webhooks may not reach (private, loopback or reserved)`, 'url_not_allowed');
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
