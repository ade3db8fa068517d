import { readSharedConfig } from '../config/shared-config';
import { EnvReader } from '../config/env-parsers';
import { nextAttemptDelay, parseRetryAfter, withJitter } from './retry-policy';

const config = readSharedConfig(new EnvReader({}), {}).webhooks;

describe(nextAttemptDelay.name, () => {
  it('follows the default schedule 0s, 5s, 5m, 30m, 2h, 5h, 10h, 10h and then gives up', () => {
    const middle = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7].map((attempt) => nextAttemptDelay(config, attempt, null, middle))).toEqual([
      5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]);
    expect(nextAttemptDelay(config, 8, null, middle)).toBeNull();
  });

  it('jitters within ±20%', () => {
    expect(withJitter(10_000, () => 0)).toBe(8_000);
    expect(withJitter(10_000, () => 0.999999)).toBe(12_000);
  });

  it('waits for Retry-After when it is later than the schedule, up to the bound', () => {
    expect(nextAttemptDelay(config, 1, 60_000, () => 0.5)).toBe(60_000);
    expect(nextAttemptDelay(config, 1, 1_000, () => 0.5)).toBe(5_000);
    expect(nextAttemptDelay(config, 1, 86_400_000, () => 0.5)).toBe(config.maxRetryAfterMs);
  });
});

describe(parseRetryAfter.name, () => {
  const now = new Date('2026-12-01T10:00:00Z');
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Tue, 01 Dec 2026 10:01:00 GMT', now)).toBe(60_000);
  });
  it('ignores junk', () => {
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});
