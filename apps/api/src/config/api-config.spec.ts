import { readApiConfig } from './api-config';

describe(readApiConfig.name, () => {
  it('starts a development box with defaults and a generated operator token', () => {
    const sut = readApiConfig({});
    expect(sut).toMatchObject({
      port: 3000,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/scheduled_calls',
      redisUrl: 'redis://127.0.0.1:6379',
      adminTokenGenerated: true,
      secretsKeyIsDevelopmentDefault: true,
    });
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

  it('limits failed authentication to 20 a minute by default, and reads both settings', () => {
    expect(readApiConfig({})).toMatchObject({ authFailureLimit: 20, authFailureWindowMs: 60_000 });
    expect(readApiConfig({ AUTH_FAILURE_LIMIT: '5', AUTH_FAILURE_WINDOW: '2s' })).toMatchObject({ authFailureLimit: 5, authFailureWindowMs: 2_000 });
  });

  it('refuses a failed-authentication limit of 0 and a window under a second', () => {
    expect(() => readApiConfig({ AUTH_FAILURE_LIMIT: '0' })).toThrow(/AUTH_FAILURE_LIMIT must be an integer/);
    expect(() => readApiConfig({ AUTH_FAILURE_WINDOW: '500ms' })).toThrow(/AUTH_FAILURE_WINDOW must be from 1s to 1d/);
    expect(() => readApiConfig({ AUTH_FAILURE_WINDOW: 'soon' })).toThrow(/AUTH_FAILURE_WINDOW/);
  });
});
