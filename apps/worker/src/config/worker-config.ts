import { ConfigError, Env, EnvReader } from '@app/shared/config/env-parsers';
import { readSharedConfig, SharedConfig } from '@app/shared/config/shared-config';

/** The worker process's settings, read once at boot from the environment (SPEC §7). */
export interface WorkerConfig extends SharedConfig {
  /** How often the no-show detector looks for calls past their grace window. */
  noShowIntervalMs: number;
}

export function readWorkerConfig(env: Env = process.env): WorkerConfig {
  const reader = new EnvReader(env);
  const shared = readSharedConfig(reader, env);
  const config: WorkerConfig = {
    ...shared,
    noShowIntervalMs: reader.duration('NO_SHOW_INTERVAL', '1s'),
  };
  reader.assertValid('worker');
  return config;
}

export { ConfigError };
