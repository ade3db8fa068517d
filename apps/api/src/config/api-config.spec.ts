import { readApiConfig } from './api-config';

describe(readApiConfig.name, () => {
  it('starts a development box with defaults and a generated operator token', () => {
    const sut = readApiConfig({});
    expect(sut).toMatchObject({ port: 3000, databaseUrl: 'postgres://postgres@127.0.0.1:5432/scheduled_calls', redisUrl: 'redis://127.0.0.1:6379', adminTokenGenerated: true, secretsKeyIsDevelopmentDefault: true });
    expect(sut.adminToken.length).toBeGreaterThanOrEqual(32);
  });

  it('refuses production without ADMIN_TOKEN and SECRETS_KEY, naming both', () => {
    expect(() => readApiConfig({ NODE_ENV: 'production' })).toThrow(/ADMIN_TOKEN is required/);
    expect(() => readApiConfig({ NODE_ENV: 'production' })).toThrow(/SECRETS_KEY is required/);
  });

  it('accepts production with both set', () => {
    const sut = readApiConfig({ NODE_ENV: 'production', ADMIN_TOKEN: 'a'.repeat(32), SECRETS_KEY: 'k'.repeat(32) });
    expect(sut).toMatchObject({ production: true, adminTokenGenerated: false, secretsKeyIsDevelopmentDefault: false });
  });

  it('refuses a short operator token and a malformed database URL', () => {
    const env = { ADMIN_TOKEN: 'short', DATABASE_URL: 'mysql://x' };
    expect(() => readApiConfig(env)).toThrow(/ADMIN_TOKEN must be at least 16/);
    expect(() => readApiConfig(env)).toThrow(/DATABASE_URL is not a valid URL/);
  });
});
