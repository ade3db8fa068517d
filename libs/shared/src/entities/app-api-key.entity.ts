import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** An app's API key, stored as a SHA-256 digest: the key itself is shown once, at creation. */
@Entity({ name: 'app_api_keys' })
export class AppApiKey {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'app_id' })
  appId: string;

  @Index({ unique: true })
  @Column('bytea', { name: 'key_hash' })
  keyHash: Buffer;

  /** The first characters of the key, so an operator can tell keys apart without seeing them. */
  @Column('text', { name: 'key_prefix' })
  keyPrefix: string;

  /** A label to tell keys apart; null when none was given. */
  @Column('text', { nullable: true })
  name: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt: Date | null;

  /** Kept to within a minute, not written per request (see ApiKeyUsageRecorder in the API). */
  @Column('timestamptz', { name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;
}
