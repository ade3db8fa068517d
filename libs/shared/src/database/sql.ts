import type { EntityManager } from 'typeorm';

/** What runs a statement: a DataSource, an EntityManager (a transaction's) or a QueryRunner. */
export type Queryable = Pick<EntityManager, 'query'>;

/**
 * The rows of a statement, typed by the caller's row interface. TypeORM's PostgreSQL driver answers
 * an UPDATE or DELETE (… RETURNING) with `[rows, affectedCount]` and anything else with the rows;
 * this gives the rows either way, so no caller casts a result.
 */
export async function queryRows<Row>(db: Queryable, sql: string, params: readonly unknown[] = []): Promise<Row[]> {
  const result: unknown = await db.query(sql, params as unknown[]);
  return Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number' ? (result[0] as Row[]) : (result as Row[]);
}

/** The first row of a statement, or undefined when it returned none. */
export async function queryRow<Row>(db: Queryable, sql: string, params: readonly unknown[] = []): Promise<Row | undefined> {
  const rows = await queryRows<Row>(db, sql, params);
  return rows[0];
}

/** A PostgreSQL array type of an `unnest` input column. */
export type UnnestType = 'uuid' | 'text' | 'int' | 'boolean' | 'timestamptz' | 'jsonb' | 'json' | 'bytea';

/** Each input column of an `unnest`: its PostgreSQL type and how to read its value off an item. */
export type UnnestColumns<Item> = Record<string, readonly [UnnestType, (item: Item) => unknown]>;

/** A table expression over arrays (one per column), the parameters it numbers, and the next free parameter. */
export interface UnnestInput {
  /** `unnest($1::uuid[], $2::text[], …) AS t(id, name, …)` */
  sql: string;
  params: unknown[];
  /** The column names in order, for `INSERT INTO … (…) SELECT <columns> FROM …`. */
  columns: string;
  nextParam: number;
}

/**
 * Batches as one statement: arrays in, one row per item out. Each column is named once, beside its
 * type and its value, so a column can never be paired with another's parameter (a positional list
 * of 17 arrays could, and nothing checked it).
 */
export function unnestInput<Item>(items: readonly Item[], columns: UnnestColumns<Item>, firstParam = 1, alias = 't'): UnnestInput {
  const names = Object.keys(columns);
  const arrays = names.map((name, i) => `$${firstParam + i}::${columns[name][0]}[]`);
  return {
    sql: `unnest(${arrays.join(', ')}) AS ${alias}(${names.join(', ')})`,
    params: names.map((name) => items.map(columns[name][1])),
    columns: names.join(', '),
    nextParam: firstParam + names.length,
  };
}

/**
 * A list of constant strings as SQL literals, `('a', 'b')`, for `IN`. Written into the text rather than
 * passed as a parameter: a partial index (`WHERE status IN ('pending', 'retrying')`) is only used
 * when the planner can prove the query's condition implies its predicate, which it cannot with a
 * parameter.
 */
export function sqlList(values: readonly string[]): string {
  for (const value of values) if (!/^[a-z_]+$/.test(value)) throw new Error(`not a SQL constant: ${value}`);
  return `(${values.map((value) => `'${value}'`).join(', ')})`;
}
