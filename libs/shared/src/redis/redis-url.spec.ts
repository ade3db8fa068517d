import { effectiveKeyPrefix, hashTagOf, parseRedisUrl } from './redis-url';

describe(parseRedisUrl.name, () => {
  it('reads a single server as before: host, port, credentials, database index and TLS', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toEqual({
      kind: 'standalone',
      options: { host: '127.0.0.1', port: 6379, db: 0, username: undefined, password: undefined, tls: undefined },
    });
    expect(parseRedisUrl('rediss://app:p%40ss@cache.example.com:6380/3')).toEqual({
      kind: 'standalone',
      options: { host: 'cache.example.com', port: 6380, db: 3, username: 'app', password: 'p@ss', tls: {} },
    });
    expect(parseRedisUrl('redis://[::1]').kind === 'standalone' && parseRedisUrl('redis://[::1]').options).toMatchObject({ host: '::1', port: 6379 });
  });

  it('reads a cluster as its seed nodes, with the credentials and TLS every node shares', () => {
    expect(parseRedisUrl('rediss+cluster://default:s3cret@10.0.0.1:7000,10.0.0.2,[::1]:7002/')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      options: { username: 'default', password: 's3cret', tls: {} },
    });
    expect(parseRedisUrl('redis+cluster://node-a:6379')).toEqual({
      kind: 'cluster',
      nodes: [{ host: 'node-a', port: 6379 }],
      options: { username: undefined, password: undefined, tls: undefined },
    });
  });

  it.each([
    ['http://127.0.0.1:6379', /must start with redis:\/\/ or rediss:\/\//],
    ['127.0.0.1:6379', /must start with/],
    ['redis://127.0.0.1:6379/two', /database index/],
    ['redis+cluster://10.0.0.1:7000,10.0.0.2:7001/2', /no database index/],
    ['redis+cluster://10.0.0.1:7000?tls=true', /no query string/],
    ['redis+cluster://10.0.0.1:7000,,10.0.0.2:7001', /empty node/],
    ['redis+cluster://10.0.0.1:port', /not a host:port/],
    ['redis+cluster://', /empty node/],
  ])('refuses %p with a message that says what is expected', (raw, message) => {
    expect(() => parseRedisUrl(raw)).toThrow(message);
  });
});

describe(effectiveKeyPrefix.name, () => {
  it('keeps the prefix on a single server, so key names stay what they were', () => {
    expect(effectiveKeyPrefix('scw', false)).toBe('scw');
  });

  it('wraps a prefix without a hash tag in braces on a cluster, and keeps one that has its own', () => {
    expect(effectiveKeyPrefix('scw-test-run1', true)).toBe('{scw-test-run1}');
    expect(effectiveKeyPrefix('{acme}:webhooks', true)).toBe('{acme}:webhooks');
  });

  it('refuses a brace that opens no hash tag, whose keys would spread over slots', () => {
    expect(() => effectiveKeyPrefix('sc{w', true)).toThrow(/does not open a hash tag/);
    expect(() => effectiveKeyPrefix('scw{}', false)).toThrow(/does not open a hash tag/);
    expect(hashTagOf('{scw}:{fair}')).toBe('scw');
  });
});
