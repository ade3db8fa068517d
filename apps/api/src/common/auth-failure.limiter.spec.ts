import { Logger } from '@nestjs/common';
import { readApiConfig } from '../config/api-config';
import { AuthFailureLimiter } from './auth-failure.limiter';

function makeLimiter(env: Record<string, string>): AuthFailureLimiter {
  return new AuthFailureLimiter(readApiConfig({ ADMIN_TOKEN: 'test-operator-token-0123456789', LOG_LEVEL: 'error', ...env }));
}

describe(AuthFailureLimiter.name, () => {
  it('lets every client through, and warns once, while Redis does not answer', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    // Port 1: nothing listens, so every command fails at once.
    const sut = makeLimiter({ REDIS_URL: 'redis://127.0.0.1:1', AUTH_FAILURE_LIMIT: '1' });
    try {
      await sut.onApplicationBootstrap();
      const client = { address: '192.0.2.1', keyPrefix: 'scw_ak_abcdef' };
      for (let i = 0; i < 5; i++) {
        await expect(sut.recordFailure(client)).resolves.toBeUndefined();
        await expect(sut.retryAfterSeconds(client)).resolves.toBe(0);
      }
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0][0]).toMatch(/not rate-limited/);
    } finally {
      sut.onApplicationShutdown();
      warn.mockRestore();
    }
  });
});
