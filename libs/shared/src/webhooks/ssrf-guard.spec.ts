import type { LookupAddress } from 'node:dns';
import { DnsCache } from './dns-cache';
import { ForbiddenUrlError, guardedLookup, isForbiddenAddress, parseSubscriberUrl, resolveAllowedAddresses } from './ssrf-guard';

const strict = { allowPrivate: false };

// One row per entry of IANA's IPv4 special-purpose registry (plus multicast): the block and an
// address inside it, often its last one, so a prefix length that is too short shows.
const IPV4_REGISTRY: Array<[string, string]> = [
  ['0.0.0.0/8 this network', '0.255.255.255'],
  ['10.0.0.0/8 private-use', '10.1.2.3'],
  ['100.64.0.0/10 shared address space', '100.127.255.255'],
  ['127.0.0.0/8 loopback', '127.1.2.3'],
  ['169.254.0.0/16 link-local', '169.254.169.254'],
  ['172.16.0.0/12 private-use', '172.31.255.255'],
  ['192.0.0.0/24 IETF protocol assignments', '192.0.0.200'],
  ['192.0.0.0/29 IPv4 service continuity prefix', '192.0.0.7'],
  ['192.0.0.8/32 IPv4 dummy address', '192.0.0.8'],
  ['192.0.0.9/32 PCP anycast (globally reachable, refused)', '192.0.0.9'],
  ['192.0.0.10/32 TURN anycast (globally reachable, refused)', '192.0.0.10'],
  ['192.0.0.170/31 NAT64/DNS64 discovery', '192.0.0.171'],
  ['192.0.2.0/24 TEST-NET-1', '192.0.2.10'],
  ['192.31.196.0/24 AS112-v4 (globally reachable, refused)', '192.31.196.1'],
  ['192.52.193.0/24 AMT (globally reachable, refused)', '192.52.193.1'],
  ['192.88.99.0/24 deprecated 6to4 relay anycast', '192.88.99.1'],
  ['192.168.0.0/16 private-use', '192.168.255.255'],
  ['192.175.48.0/24 direct delegation AS112 (globally reachable, refused)', '192.175.48.1'],
  ['198.18.0.0/15 benchmarking', '198.19.255.255'],
  ['198.51.100.0/24 TEST-NET-2', '198.51.100.7'],
  ['203.0.113.0/24 TEST-NET-3', '203.0.113.7'],
  ['224.0.0.0/4 multicast', '239.255.255.250'],
  ['240.0.0.0/4 reserved', '240.0.0.1'],
  ['255.255.255.255/32 limited broadcast', '255.255.255.255'],
];

// Likewise for IPv6. The ranges that carry an IPv4 address get a sample carrying a private one.
const IPV6_REGISTRY: Array<[string, string]> = [
  ['::/128 unspecified', '::'],
  ['::1/128 loopback', '::1'],
  ['::/96 IPv4-compatible (deprecated)', '::808:808'],
  ['::ffff:0:0/96 IPv4-mapped, carrying a private IPv4', '::ffff:10.0.0.1'],
  ['::ffff:0:0:0/96 IPv4-translated, even carrying a public IPv4', '::ffff:0:8.8.8.8'],
  ['64:ff9b::/96 NAT64, carrying a private IPv4', '64:ff9b::c0a8:1'],
  ['64:ff9b:1::/48 NAT64 local use', '64:ff9b:1:ffff::808:808'],
  ['100::/64 discard-only', '100::ffff:1'],
  ['100:0:0:1::/64 dummy prefix', '100:0:0:1::1'],
  ['2001::/23 IETF protocol assignments', '2001:1ff:ffff::1'],
  ['2001::/32 Teredo', '2001:0:4136:e378::1'],
  ['2001:1::1/128 PCP anycast (globally reachable, refused)', '2001:1::1'],
  ['2001:1::2/128 TURN anycast (globally reachable, refused)', '2001:1::2'],
  ['2001:1::3/128 DNS-SD SRP anycast (globally reachable, refused)', '2001:1::3'],
  ['2001:2::/48 benchmarking', '2001:2::1'],
  ['2001:3::/32 AMT (globally reachable, refused)', '2001:3::1'],
  ['2001:4:112::/48 AS112-v6 (globally reachable, refused)', '2001:4:112::1'],
  ['2001:10::/28 ORCHID', '2001:1f::1'],
  ['2001:20::/28 ORCHIDv2', '2001:20::1'],
  ['2001:30::/28 drone remote ID', '2001:30::1'],
  ['2001:db8::/32 documentation', '2001:db8::1'],
  ['2002::/16 6to4, carrying a private IPv4', '2002:a00:1::1'],
  ['2620:4f:8000::/48 direct delegation AS112 (globally reachable, refused)', '2620:4f:8000::1'],
  ['3fff::/20 documentation', '3fff:fff:ffff::1'],
  ['5f00::/16 SRv6 SIDs', '5f00:ffff::1'],
  ['fc00::/7 unique local', 'fd00:ec2::254'],
  ['fe80::/10 link-local', 'febf::1'],
  ['fec0::/10 site-local (deprecated)', 'feff::1'],
  ['ff00::/8 multicast', 'ff02::1'],
];

// The same hosts written the ways an attacker would: numeric forms of a forbidden IPv4 inside IPv6.
const DISGUISED: Array<[string, string]> = [
  ['IPv4-mapped, dotted', '::ffff:127.0.0.1'],
  ['IPv4-mapped, hex', '::ffff:7f00:1'],
  ['IPv4-mapped, uncompressed', '0:0:0:0:0:ffff:7f00:1'],
  ['IPv4-mapped, upper case', '::FFFF:7F00:1'],
  ['IPv4-mapped metadata address', '::ffff:169.254.169.254'],
  ['IPv4-translated, hex', '::ffff:0:7f00:1'],
  ['IPv4-translated, dotted', '::ffff:0:127.0.0.1'],
  ['IPv4-compatible, dotted', '::127.0.0.1'],
  ['NAT64 of a private IPv4, dotted', '64:ff9b::10.0.0.1'],
  ['NAT64 of a private IPv4, hex', '64:ff9b::a00:1'],
  ['NAT64 of the metadata address', '64:ff9b::a9fe:a9fe'],
  ['6to4 of a private IPv4', '2002:c0a8:101::1'],
  ['6to4 of loopback', '2002:7f00:1::'],
  ['bracketed loopback', '[::1]'],
  ['link-local with a zone', 'fe80::1%eth0'],
  ['reserved space outside 2000::/3', '4000::1'],
  ['reserved fe00::/9', 'fe00::1'],
  ['NAT64-like but outside 64:ff9b::/96', '64:ff9b:2::808:808'],
];

// Public unicast, including the first address past the end of a refused block.
const PUBLIC: string[] = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.216.34',
  '9.255.255.255',
  '11.0.0.0',
  '100.63.255.255',
  '100.128.0.0',
  '126.255.255.255',
  '128.0.0.0',
  '169.255.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '192.0.1.0',
  '192.0.3.0',
  '192.88.100.0',
  '192.169.0.0',
  '198.20.0.0',
  '223.255.255.255',
  '2606:4700:4700::1111',
  '2a00:1450:4001:80b::200e',
  '2001:200::1',
  '2001:db9::1',
  '2003::1',
  '2620:4f:8001::1',
  '3fff:1000::1',
  '::ffff:8.8.8.8',
  '64:ff9b::808:808',
  '2002:808:808::1',
];

/** The error a synchronous call throws (the test fails if it throws none). */
function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

const answering =
  (...addresses: string[]) =>
  async (): Promise<LookupAddress[]> =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

/** guardedLookup as net.connect calls it, turned into a promise. */
function lookupThrough(lookup: ReturnType<typeof guardedLookup>, hostname: string): Promise<unknown> {
  return new Promise((resolve, reject) => lookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));
}

describe(isForbiddenAddress.name, () => {
  it.each(IPV4_REGISTRY)('refuses %s (%s)', (_block, sample) => {
    expect(isForbiddenAddress(sample)).toBe(true);
  });

  it.each(IPV6_REGISTRY)('refuses %s (%s)', (_block, sample) => {
    expect(isForbiddenAddress(sample)).toBe(true);
  });

  it.each(DISGUISED)('refuses the %s form %s', (_form, address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(PUBLIC)('allows the public address %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });

  it('refuses what is not an IP address', () => {
    expect(isForbiddenAddress('example.com')).toBe(true);
  });
});

describe(parseSubscriberUrl.name, () => {
  it.each([
    'http://2130706433/',
    'http://0x7f000001/',
    'http://127.1/',
    'http://0177.0.0.1/',
    'http://[::ffff:7f00:1]/',
    'http://[::1]:8080/x',
    'http://169.254.169.254/latest/meta-data/',
    'https://[fd00:ec2::254]/',
    'http://0/',
    'http://[::ffff:0:127.0.0.1]/',
    'http://[::ffff:0:7f00:1]/',
    'http://[64:ff9b::a00:1]/',
    'http://[2002:c0a8:101::]/',
    'http://[3fff::1]/',
    'http://[5f00::1]/',
    'http://192.0.0.9/',
  ])('refuses the URL %s at creation', (url) => {
    expect(thrownBy(() => parseSubscriberUrl(url, strict))).toMatchObject({ name: ForbiddenUrlError.name, code: 'url_not_allowed' });
  });

  it.each([
    ['http://127.0.0.1/', '127.0.0.0/8 loopback'],
    ['http://[::ffff:0:127.0.0.1]/', '::ffff:0:0:0/96 IPv4-translated'],
    ['http://[::ffff:7f00:1]/', '::ffff:0:0/96 IPv4-mapped carrying 127.0.0.1, 127.0.0.0/8 loopback'],
    ['http://[64:ff9b::a9fe:a9fe]/', '64:ff9b::/96 NAT64 well-known prefix carrying 169.254.169.254, 169.254.0.0/16 link-local'],
  ])('names the rule when the URL itself holds a forbidden address: %s', (url, rule) => {
    expect(thrownBy(() => parseSubscriberUrl(url, strict))).toMatchObject({ message: expect.stringContaining(`(refused: ${rule}`) });
  });

  it.each(['ftp://example.com/', 'file:///etc/passwd', 'http://user:pass@example.com/', 'not a url', 'javascript:alert(1)'])(
    'refuses the malformed or credentialed URL %s',
    (url) => {
      expect(thrownBy(() => parseSubscriberUrl(url, strict))).toMatchObject({ code: 'invalid_url', message: expect.stringMatching(/url must/) });
    },
  );

  it('allows loopback URLs when private URLs are allowed', () => {
    expect(parseSubscriberUrl('http://127.0.0.1:4000/hook', { allowPrivate: true }).port).toBe('4000');
  });

  it('leaves a host name to the resolution check', () => {
    expect(parseSubscriberUrl('https://hooks.example/x', strict).hostname).toBe('hooks.example');
  });
});

describe(resolveAllowedAddresses.name, () => {
  const refusedName = (host: string) => `the host ${host} resolves to an address webhooks may not reach (private, loopback or reserved)`;

  it('refuses a name that resolves to loopback', async () => {
    await expect(resolveAllowedAddresses('localhost', strict)).rejects.toMatchObject({ code: 'url_not_allowed', message: refusedName('localhost') });
  });

  it('refuses a name when one of several answers is private', async () => {
    await expect(resolveAllowedAddresses('mixed.example', strict, answering('93.184.216.34', '10.1.2.3'))).rejects.toMatchObject({ code: 'url_not_allowed' });
  });

  // A tenant must not be able to map the internal DNS by registering names and reading refusals.
  it.each(['127.0.0.1', '10.1.2.3', '169.254.169.254', 'fd00:ec2::254', '::ffff:192.168.1.1', '64:ff9b::a00:1', '2001:db8::1'])(
    'gives one message that names neither the resolved address nor its range when a name resolves to %s',
    async (address) => {
      const error = await resolveAllowedAddresses('internal.example', strict, answering('93.184.216.34', address)).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: ForbiddenUrlError.name, code: 'url_not_allowed', message: refusedName('internal.example') });
      expect((error as Error).message).not.toContain(address);
    },
  );

  it('names the rule for a literal address, which the caller typed', async () => {
    await expect(resolveAllowedAddresses('[::1]', strict)).rejects.toMatchObject({
      code: 'url_not_allowed',
      message: expect.stringContaining('::1/128 loopback'),
    });
  });

  it('passes a name whose answers are all public', async () => {
    await expect(resolveAllowedAddresses('public.example', strict, answering('93.184.216.34', '2606:4700:4700::1111'))).resolves.toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:4700:4700::1111', family: 6 },
    ]);
  });

  it('passes a private answer when private URLs are allowed', async () => {
    await expect(resolveAllowedAddresses('dev.example', { allowPrivate: true }, answering('127.0.0.1'))).resolves.toEqual([
      { address: '127.0.0.1', family: 4 },
    ]);
  });

  it('reports a name that does not resolve as unresolvable, not as refused', async () => {
    const failing = async (): Promise<LookupAddress[]> => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));
    await expect(resolveAllowedAddresses('gone.example', strict, failing)).rejects.toMatchObject({
      code: 'url_unresolvable',
      message: 'the host gone.example does not resolve (ENOTFOUND)',
    });
    await expect(resolveAllowedAddresses('empty.example', strict, answering())).rejects.toMatchObject({ code: 'url_unresolvable' });
  });
});

describe(guardedLookup.name, () => {
  it('refuses at connect time without naming the resolved address', async () => {
    const sut = guardedLookup({ ...strict, cache: new DnsCache({ lookup: answering('10.20.30.40') }) });
    const error = await lookupThrough(sut, 'rebound.example').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: ForbiddenUrlError.name, code: 'url_not_allowed' });
    expect((error as Error).message).not.toContain('10.20.30.40');
  });

  it('hands over the checked answers when they are public', async () => {
    const sut = guardedLookup({ ...strict, cache: new DnsCache({ lookup: answering('93.184.216.34') }) });
    await expect(lookupThrough(sut, 'public.example')).resolves.toEqual([{ address: '93.184.216.34', family: 4 }]);
  });
});
