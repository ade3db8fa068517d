import { Column, Entity, PrimaryColumn } from 'typeorm';

export const SUBSCRIPTION_STATUSES = ['active', 'failing', 'paused'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];
export type PausedReason = 'manual' | 'auto' | 'gone';
/** Stored circuit states; an open circuit whose retry time has come reads as `half_open`. */
export type StoredCircuitState = 'closed' | 'open';

/** Where an app wants its events, and with which secret they are signed (encrypted at rest). */
@Entity({ name: 'webhook_subscriptions' })
export class WebhookSubscription {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'app_id' }) appId: string;
  @Column('text') url: string;
  /** Event types, or ['*'] for all. */
  @Column('text', { array: true }) events: string[];
  @Column('text', { nullable: true }) description: string | null;
  @Column('text') status: SubscriptionStatus;
  @Column('text', { name: 'paused_reason', nullable: true }) pausedReason: PausedReason | null;
  @Column('bytea', { name: 'secret_ciphertext' }) secretCiphertext: Buffer;
  /** The secret a rotation retired, still signed with (X-ApifyCloud-Signature-Previous) until it expires. */
  @Column('bytea', { name: 'previous_secret_ciphertext', nullable: true }) previousSecretCiphertext: Buffer | null;
  @Column('timestamptz', { name: 'previous_secret_expires_at', nullable: true }) previousSecretExpiresAt: Date | null;
  @Column('integer', { name: 'consecutive_failures' }) consecutiveFailures: number;
  /** First failure since the last success; auto-pause counts from here. */
  @Column('timestamptz', { name: 'failing_since', nullable: true }) failingSince: Date | null;
  /** Deliveries per second at most (null: no limit); the rest wait, they are not failed. */
  @Column('integer', { name: 'rate_limit_per_second', nullable: true }) rateLimitPerSecond: number | null;
  @Column('text', { name: 'circuit_state' }) circuitState: StoredCircuitState;
  /** Timeouts and connection failures in a row (any HTTP answer resets it). */
  @Column('integer', { name: 'circuit_failures' }) circuitFailures: number;
  /** Openings without a close in between; each doubles the cool-down. */
  @Column('integer', { name: 'circuit_open_count' }) circuitOpenCount: number;
  @Column('timestamptz', { name: 'circuit_retry_at', nullable: true }) circuitRetryAt: Date | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt: Date;
}
