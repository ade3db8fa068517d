import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Clock } from '@app/shared/clock/clock';
import { ApiKeysRepository } from './api-keys.repository';

/** How often pending uses are looked at; a key's first use shows within this. */
const FLUSH_EVERY_MS = 5_000;
/** A key's last_used_at is written at most once per this, per API process. */
const WRITE_AT_MOST_EVERY_MS = 60_000;

/**
 * Keeps `last_used_at` without a write per request: a use is remembered in memory, and a timer
 * writes the remembered uses in one UPDATE, each key at most once a minute per process (by the
 * injected clock). So `last_used_at` is exact to within a minute, and a key used a thousand times
 * a second costs one row update a minute. Pending uses are written at shutdown; a crash loses at
 * most a minute of them.
 */
@Injectable()
export class ApiKeyUsageRecorder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ApiKeyUsageRecorder.name);
  /** Key id -> its latest use not yet written. */
  private readonly pending = new Map<string, Date>();
  /** Key id -> when its last_used_at was last written (clock ms); entries older than a minute are dropped. */
  private readonly written = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repository: ApiKeysRepository,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_EVERY_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush({ force: true });
  }

  record(keyId: string): void {
    this.pending.set(keyId, this.clock.now());
  }

  /** Writes the uses whose key was not written in the last minute (all of them with `force`). */
  async flush(options: { force?: boolean } = {}): Promise<void> {
    const now = this.clock.now().getTime();
    for (const [keyId, at] of this.written) if (now - at >= WRITE_AT_MOST_EVERY_MS) this.written.delete(keyId);
    const due: Array<{ keyId: string; at: Date }> = [];
    for (const [keyId, at] of this.pending) {
      if (options.force || !this.written.has(keyId)) due.push({ keyId, at });
    }
    if (due.length === 0) return;
    for (const { keyId } of due) {
      this.pending.delete(keyId);
      this.written.set(keyId, now);
    }
    try {
      await this.repository.recordLastUsed(due);
    } catch (error) {
      // Put them back (a newer use recorded meanwhile wins), to be written by the next flush.
      for (const { keyId, at } of due) {
        this.written.delete(keyId);
        if (!this.pending.has(keyId)) this.pending.set(keyId, at);
      }
      this.logger.warn(`Could not record API key uses (${(error as Error).message}); retrying with the next flush.`);
    }
  }
}
