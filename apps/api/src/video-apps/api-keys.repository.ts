import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { queryRow, queryRows } from '@app/shared/database/sql';
import { afterParams, ListPosition, newestFirstSql } from '@app/shared/database/keyset';

/** An app's API key as the API shows it: never the key, never its digest. */
export interface ApiKeyRecord {
  id: string;
  appId: string;
  name: string | null;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

interface ApiKeyRow {
  id: string;
  app_id: string;
  name: string | null;
  key_prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, app_id, name, key_prefix, created_at, last_used_at, revoked_at';

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    appId: row.app_id,
    name: row.name,
    prefix: row.key_prefix,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

export interface NewApiKey {
  id: string;
  appId: string;
  name: string | null;
  digest: Buffer;
  prefix: string;
  createdAt: Date;
}

/** An active key found by its digest: what authentication needs, and the digest to compare again. */
export interface ActiveKeyMatch {
  id: string;
  appId: string;
  digest: Buffer;
}

/** `revoked` carries the revocation version the revoke produced (app_api_key_revocations). */
export type RevokeOutcome = { kind: 'revoked'; version: number } | { kind: 'already_revoked' } | { kind: 'not_found' };

/** The SQL of app API keys. Every query by key id also takes the app, so a tenant cannot reach another's keys. */
@Injectable()
export class ApiKeysRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Inserts inside the caller's transaction (POST /v1/apps creates the app and its key together). */
  async insert(manager: EntityManager, key: NewApiKey): Promise<ApiKeyRecord> {
    const row = await queryRow<ApiKeyRow>(
      manager,
      `INSERT INTO app_api_keys (id, app_id, name, key_hash, key_prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [key.id, key.appId, key.name, key.digest, key.prefix, key.createdAt],
    );
    return toRecord(row!);
  }

  /** The app's keys newest first, revoked ones included, `limit` of them after `after`. */
  async listForApp(appId: string, limit: number, after?: ListPosition): Promise<ApiKeyRecord[]> {
    const page = newestFirstSql('created_at', 2);
    const rows = await queryRows<ApiKeyRow>(this.db, `SELECT ${COLUMNS} FROM app_api_keys WHERE app_id = $1 AND ${page.where} ${page.orderBy} LIMIT $4`, [
      appId,
      ...afterParams(after),
      limit,
    ]);
    return rows.map(toRecord);
  }

  async findActiveByDigest(digest: Buffer): Promise<ActiveKeyMatch | null> {
    const row = await queryRow<{ id: string; app_id: string; key_hash: Buffer }>(
      this.db,
      `SELECT id, app_id, key_hash FROM app_api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
      [digest],
    );
    return row ? { id: row.id, appId: row.app_id, digest: row.key_hash } : null;
  }

  /** Revokes once: revoking a revoked key changes nothing (and bumps no version). */
  async revoke(appId: string, keyId: string, at: Date): Promise<RevokeOutcome> {
    return this.db.transaction(async (manager) => {
      const revoked = await queryRows<{ id: string }>(
        manager,
        `UPDATE app_api_keys SET revoked_at = $3 WHERE id = $1 AND app_id = $2 AND revoked_at IS NULL RETURNING id`,
        [keyId, appId, at],
      );
      if (revoked.length === 0) {
        const found = await queryRow<{ id: string }>(manager, `SELECT id FROM app_api_keys WHERE id = $1 AND app_id = $2`, [keyId, appId]);
        return found ? { kind: 'already_revoked' } : { kind: 'not_found' };
      }
      // The trigger bumped the version in this transaction; the row stays locked until commit, so
      // versions become visible in the order they were taken.
      return { kind: 'revoked', version: await revocationVersion(manager) };
    });
  }

  /** The revocation version: it grows by one with each key revoked or deleted, by any writer. */
  revocationVersion(): Promise<number> {
    return revocationVersion(this.db.manager);
  }

  /** One statement for a batch of uses; never moves last_used_at backwards. */
  async recordLastUsed(uses: Array<{ keyId: string; at: Date }>): Promise<void> {
    if (uses.length === 0) return;
    // Sorted by id: with the usual plan (a nested loop over the arrays) rows are locked in that
    // order, so two processes flushing overlapping batches do not deadlock; a flush that fails
    // anyway keeps its uses for the next one.
    const sorted = [...uses].sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0));
    await this.db.query(
      `UPDATE app_api_keys AS k SET last_used_at = u.at
         FROM unnest($1::uuid[], $2::timestamptz[]) AS u (id, at)
        WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`,
      [sorted.map((u) => u.keyId), sorted.map((u) => u.at)],
    );
  }
}

async function revocationVersion(manager: EntityManager): Promise<number> {
  const row = await queryRow<{ version: string }>(manager, `SELECT version FROM app_api_key_revocations`);
  return Number(row!.version);
}
