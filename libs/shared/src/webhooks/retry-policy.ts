import type { WebhookConfig } from '../config/shared-config';

/** ±20% jitter spreads retries of many deliveries that failed together (an outage) over time. */
export function withJitter(delayMs: number, random: () => number = Math.random): number {
  if (delayMs === 0) return 0;
  return Math.round(delayMs * (0.8 + 0.4 * random()));
}

/**
 * When the next automatic attempt is due after attempt number `attempt` failed, or null when the
 * schedule is used up. `retryAfterMs` (from a 429/503 Retry-After) may push it later, within bounds.
 */
export function nextAttemptDelay(config: WebhookConfig, attempt: number, retryAfterMs: number | null, random?: () => number): number | null {
  if (attempt >= config.retrySchedule.length) return null;
  const scheduled = withJitter(config.retrySchedule[attempt], random);
  if (retryAfterMs === null) return scheduled;
  return Math.max(scheduled, Math.min(retryAfterMs, config.maxRetryAfterMs));
}

/** Retry-After as seconds or an HTTP date, in ms from `now`; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: Date): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return null;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}
