import { Column, Entity, PrimaryColumn } from 'typeorm';

export type SubscriptionStatus = 'active' | 'failing' | 'paused';
export type PausedReason = 'manual' | 'auto' | 'gone';

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
  @Column('timestamptz', { name: 'created_at' }) createdAt: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt: Date;
}
