import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { WebhookFanOut } from '@app/shared/webhooks/webhook-fan-out.service';
import { WORKER_CONFIG } from '../config/worker-config.module';
import type { WorkerConfig } from '../config/worker-config';

/**
 * The channel a process that commits outbox events outside the API notifies after its commit
 * (`NOTIFY outbox_events`, as its own statement). Not from a trigger inside the writing transaction:
 * PostgreSQL serialises the commits of notifying transactions on one lock held through the WAL
 * flush, which capped concurrent booking commits at one per fsync (measured: 220 ms commits at
 * 1,000/s). The API wakes its own fan-out in-process and needs no notification.
 */
export const OUTBOX_CHANNEL = 'outbox_events';
const RECONNECT_MAX_MS = 5_000;

/**
 * LISTENs for outbox commits announced by other processes (scripts, importers, the benchmark) and
 * wakes the fan-out at once. A lost notification or a dropped connection only delays events
 * until the next sweep; the listener reconnects by itself and fans out once on every (re)connect.
 */
@Injectable()
export class OutboxNotifyListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxNotifyListener.name);
  /** The connection being opened or listening; events from any older one are ignored. */
  private current: Client | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly fanOut: WebhookFanOut,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
  ) {}

  onApplicationBootstrap(): void {
    void this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.current;
    this.current = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.config.databaseDirectUrl, application_name: 'scheduled-calls-worker-listen' });
    this.current = client;
    client.on('notification', () => this.fanOut.wake());
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection closed')));
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (error) {
      this.lost(client, error as Error);
      return;
    }
    if (client !== this.current) return; // stopped, or lost while connecting
    if (this.failures > 0) this.logger.log('Listening for outbox commits again');
    this.failures = 0;
    this.fanOut.wake(); // whatever was committed while not listening
  }

  private lost(client: Client, error: Error): void {
    if (this.stopped || client !== this.current) return;
    this.current = undefined;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    const delay = Math.min(RECONNECT_MAX_MS, 200 * 2 ** this.failures++);
    this.logger.warn(`Outbox listener lost PostgreSQL (${error.message}); reconnecting in ${delay} ms, the sweep covers the gap`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
  }
}
