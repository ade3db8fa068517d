import { EnvReader } from './env-parsers';
import { readSharedConfig, redactUrl } from './shared-config';

function read(env: Record<string, string>): { config: ReturnType<typeof readSharedConfig>; problems: string[] } {
  const reader = new EnvReader(env);
  const config = readSharedConfig(reader, env);
  return { config, problems: reader.problems };
}

describe(readSharedConfig.name, () => {
  it("keeps a single server's URL and key prefix as they are", () => {
    const { config, problems } = read({ REDIS_URL: 'rediss://user:pw@cache:6380/2' });
    expect(problems).toEqual([]);
    expect(config).toMatchObject({ redisUrl: 'rediss://user:pw@cache:6380/2', queuePrefix: 'scw' });
  });

  it("takes DATABASE_DIRECT_URL for what needs a session (migrations at start, the worker's LISTEN), else DATABASE_URL", () => {
    const bouncer = 'postgres://app@pgbouncer:6432/calls';
    const direct = 'postgres://app@db.internal:5432/calls';
    expect(read({ DATABASE_URL: bouncer }).config.databaseDirectUrl).toBe(bouncer);
    expect(read({ DATABASE_URL: bouncer, DATABASE_DIRECT_URL: direct }).config).toMatchObject({ databaseUrl: bouncer, databaseDirectUrl: direct });
    expect(read({ DATABASE_DIRECT_URL: 'redis://db.internal:6379' }).problems).toEqual([expect.stringContaining('DATABASE_DIRECT_URL')]);
  });

  it('puts a hash tag in the key prefix when REDIS_URL names a cluster', () => {
    expect(read({ REDIS_URL: 'redis+cluster://10.0.0.1:7000,10.0.0.2:7001' }).config.queuePrefix).toBe('{scw}');
    expect(read({ REDIS_URL: 'redis+cluster://10.0.0.1:7000', QUEUE_PREFIX: 'acme' }).config.queuePrefix).toBe('{acme}');
    expect(read({ REDIS_URL: 'redis+cluster://10.0.0.1:7000', QUEUE_PREFIX: '{acme}-prod' }).config.queuePrefix).toBe('{acme}-prod');
  });

  it('reports a bad REDIS_URL with the accepted forms and without its password', () => {
    const { problems } = read({ REDIS_URL: 'redis+cluster://admin:hunter2@10.0.0.1:7000/5' });
    expect(problems).toEqual([expect.stringMatching(/^REDIS_URL has "\/5" after the nodes: .*no database index/)]);
    expect(problems[0]).toContain('redis+cluster://admin:***@10.0.0.1:7000/5');
    expect(problems[0]).not.toContain('hunter2');
    expect(read({ REDIS_URL: 'memcached://10.0.0.1' }).problems).toEqual([
      expect.stringMatching(/REDIS_URL must start with redis:\/\/ or rediss:\/\/ .*redis\+cluster:\/\//),
    ]);
  });

  it('reports a QUEUE_PREFIX whose brace opens no hash tag', () => {
    expect(read({ QUEUE_PREFIX: 'scw{' }).problems).toEqual([expect.stringMatching(/^QUEUE_PREFIX: .*does not open a hash tag/)]);
  });
});

describe(redactUrl.name, () => {
  it('hides the password of a cluster URL too', () => {
    expect(redactUrl('rediss+cluster://default:s3cret@10.0.0.1:7000,10.0.0.2:7001')).toBe('rediss+cluster://default:***@10.0.0.1:7000,10.0.0.2:7001');
    expect(redactUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7001')).toBe('redis+cluster://10.0.0.1:7000,10.0.0.2:7001');
  });
});
