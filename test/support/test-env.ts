/** Names shared by the global setup and the test files of one `npm test` run. */
export const ADMIN_DATABASE_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const OPERATOR_TOKEN = 'test-operator-token-0123456789';

export function runId(): string {
  const id = process.env.SCW_TEST_RUN_ID;
  if (!id) throw new Error('SCW_TEST_RUN_ID is not set: run the tests through "npm test" (jest global setup).');
  return id;
}

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export const templateDatabase = (): string => `scw_test_${runId()}_tpl`;
export const queuePrefix = (): string => `scw-test-${runId()}`;
