import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '@app/shared/clock/clock';
import { API_CONFIG } from '../config/api-config.module';
import type { ApiConfig } from '../config/api-config';
import { StatsCountsResponse, StatsWindow, STATS_WINDOWS, SubscriptionStatsQuery, SubscriptionStatsResponse } from './dto/webhook.dto';
import { StatsRange, StatsRow, WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookSubscriptionsService } from './webhook-subscriptions.service';

/** The ±20% jitter of the retry schedule (libs/shared/src/webhooks/retry-policy.ts). */
const JITTER = 1.2;

/**
 * Success rate and latency of a subscription's attempts over time (`GET …/stats`), counted by the
 * attempt's start. Test sends are left out, like they are left out of the subscription's health:
 * the figures describe the deliveries the endpoint owes.
 *
 * Attempts are partitioned by their event's time, not their start, and carry no subscription, so
 * the statement walks the subscription's deliveries (index on subscription_id, event_at) of events
 * recent enough to have an attempt in the window: from the window's start less the longest the
 * retry schedule can take (its sum with jitter, plus the longest Retry-After), about 35 h with the
 * defaults; each delivery's attempts then come by primary key from the same partition. So the
 * cost follows this subscription's traffic over the window plus that span, not the 30 days kept nor
 * the other tenants', and older weeks are pruned before the plan runs: measured over 30 days of
 * history (11 subscriptions at 100 deliveries an hour), 6 ms for 1h, 21 ms for 24h, 68 ms for 7d
 * (20,000 deliveries read, about 3.3 µs each). What this misses: attempts of events older than
 * that span, i.e. manual retries, recoveries and resumed held deliveries of old events.
 */
@Injectable()
export class WebhookStatsService {
  private readonly retrySpanMs: number;

  constructor(
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly subscriptions: WebhookSubscriptionsService,
    private readonly clock: Clock,
    @Inject(API_CONFIG) config: ApiConfig,
  ) {
    const schedule = config.webhooks.retrySchedule.reduce((sum, ms) => sum + ms, 0);
    this.retrySpanMs = Math.ceil(schedule * JITTER) + config.webhooks.maxRetryAfterMs;
  }

  async forSubscription(appId: string, subscriptionId: string, query: SubscriptionStatsQuery): Promise<SubscriptionStatsResponse> {
    await this.subscriptions.find(appId, subscriptionId);
    const window = query.window ?? '24h';
    const { bucketSeconds, buckets } = STATS_WINDOWS[window];
    const { range, from, to } = this.range(window);
    const rows = await this.deliveries.stats(appId, subscriptionId, range);
    const bucketMs = bucketSeconds * 1000;
    const byBucket = new Map(rows.filter((row) => row.bucket !== null).map((row) => [Number(row.bucket), row]));
    const firstBucket = from / bucketMs;
    return {
      window,
      bucket_seconds: bucketSeconds,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      totals: toCounts(rows.find((row) => row.bucket === null)),
      buckets: Array.from({ length: buckets }, (_, i) => ({
        start: new Date((firstBucket + i) * bucketMs).toISOString(),
        ...toCounts(byBucket.get(firstBucket + i)),
      })),
    };
  }

  /** The window's bounds, and the statement's (public so a test can EXPLAIN it). */
  statement(appId: string, subscriptionId: string, window: StatsWindow): { sql: string; params: unknown[] } {
    return this.deliveries.statsStatement(appId, subscriptionId, this.range(window).range);
  }

  /** The last bucket holds now (still filling); buckets start at multiples of their length since the epoch. */
  private range(window: StatsWindow): { range: StatsRange; from: number; to: number } {
    const { bucketSeconds, buckets } = STATS_WINDOWS[window];
    const bucketMs = bucketSeconds * 1000;
    const to = (Math.floor(this.clock.now().getTime() / bucketMs) + 1) * bucketMs;
    const from = to - buckets * bucketMs;
    return { range: { eventsSince: new Date(from - this.retrySpanMs), from: new Date(from), to: new Date(to), bucketSeconds }, from, to };
  }
}

function toCounts(row: StatsRow | undefined): StatsCountsResponse {
  const attempts = row?.attempts ?? 0;
  const succeeded = row?.succeeded ?? 0;
  return {
    attempts,
    succeeded,
    failed: attempts - succeeded,
    success_rate: attempts > 0 ? succeeded / attempts : null,
    latency_p50_ms: row?.p50 ?? null,
    latency_p95_ms: row?.p95 ?? null,
  };
}
