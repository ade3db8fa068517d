import { createHash } from 'node:crypto';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Pool } from 'pg';
import type { EntityTarget, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { DataSource, QueryFailedError } from 'typeorm';
import { InjectDataSource } from '@nestjs/typeorm';
import { API_CONFIG } from '../config/api-config.module';
import type { ApiConfig } from '../config/api-config';

/** Connections of the history reader's own pool, per API process (beside `DATABASE_POOL_SIZE`). */
export const HISTORY_READER_POOL_SIZE = 4;

/**
 * Reads of the partitioned history (delivery log pages, a subscription's last delivery and held
 * count) as named prepared statements with generic plans, on a small pool of its own.
 *
 * Why: such a read is planned over every weekly partition the retention keeps (6–8, against 2–3 on a
 * new database), and planning is most of what it costs: measured on a 30-day history of 5.1 M
 * deliveries, a delivery-log page was planned in 0.50 ms and run in 0.05 ms (0.17 / 0.016 ms on an
 * empty database). A generic plan is made once per connection and statement and pruned to the
 * partitions the parameters name when it runs, so a page costs ~0.09 ms on both. PostgreSQL's own
 * choice (`plan_cache_mode = auto`) kept custom plans for these statements, so this pool's sessions
 * force generic ones; the API's main pool keeps the default, where a custom plan is the better bet for
 * statements that run once.
 *
 * Behind a transaction-mode PgBouncer the session setting may not hold (and prepared statements need
 * PgBouncer 1.21+ with `max_prepared_statements`): the statements stay correct, only planned each time.
 */
@Injectable()
export class HistoryReader implements OnModuleDestroy {
  private readonly pool: Pool;
  private readonly names = new Map<string, string>();

  constructor(
    @Inject(API_CONFIG) config: ApiConfig,
    @InjectDataSource() private readonly db: DataSource,
  ) {
    this.pool = new Pool({
      connectionString: config.databaseUrl,
      max: HISTORY_READER_POOL_SIZE,
      connectionTimeoutMillis: 5_000,
      application_name: 'scheduled-calls-api-history',
      options: '-c plan_cache_mode=force_generic_plan',
    });
    // An idle connection the server dropped must not take the process down; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  /** Rows of a parameterised statement, run as a named prepared statement (its name is a hash of its text). */
  async query<T extends ObjectLiteral>(text: string, values: unknown[]): Promise<T[]> {
    try {
      return (await this.pool.query<T>({ name: this.nameOf(text), text, values })).rows;
    } catch (error) {
      // The same error type as the main pool's, so the problem-details filter maps it the same way.
      throw new QueryFailedError(text, values, error as Error);
    }
  }

  /** The entities a TypeORM query builder selects (plain columns, no relations), through the statements above. */
  async many<T extends ObjectLiteral>(entity: EntityTarget<T>, builder: SelectQueryBuilder<T>): Promise<T[]> {
    const [text, values] = builder.getQueryAndParameters();
    // TypeORM writes the limit into the text: as a parameter instead, one statement serves every page
    // size, so the statements a connection prepares stay bounded by the filter combinations.
    const limit = / LIMIT (\d+)$/.exec(text);
    if (limit === null) return this.toEntities(entity, await this.query(text, values), `${builder.alias}_`);
    const parameterised = `${text.slice(0, limit.index)} LIMIT $${values.length + 1}`;
    return this.toEntities(entity, await this.query(parameterised, [...values, Number(limit[1])]), `${builder.alias}_`);
  }

  /** The entities a statement selects with every column of the entity's table (`SELECT d.*`). */
  async entities<T extends ObjectLiteral>(entity: EntityTarget<T>, text: string, values: unknown[]): Promise<T[]> {
    return this.toEntities(entity, await this.query(text, values), '');
  }

  private toEntities<T extends ObjectLiteral>(entity: EntityTarget<T>, rows: Array<Record<string, unknown>>, prefix: string): T[] {
    const columns = this.db.getMetadata(entity).columns;
    return rows.map((row) => {
      const result: Record<string, unknown> = {};
      for (const column of columns) result[column.propertyName] = row[prefix + column.databaseName];
      return result as T;
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.end();
  }

  private nameOf(text: string): string {
    let name = this.names.get(text);
    if (name === undefined) {
      name = `h_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
      // A bounded set: one text per filter combination of a handful of reads.
      if (this.names.size < 1_000) this.names.set(text, name);
    }
    return name;
  }
}
