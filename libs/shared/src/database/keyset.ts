import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

/**
 * Where a newest-first list stopped: the last row's sort key (its creation time, or its event's time
 * in the delivery log, or a call's scheduled time) and its id, which breaks ties.
 */
export interface ListPosition {
  at: Date;
  id: string;
}

/**
 * Keyset pagination, the one way every list pages: newest first by (`key`, id), `take` rows, strictly
 * after `after`. A page costs one ordered index scan that stops after `take` rows, however deep.
 * `key` is the entity property of the sort key.
 */
export function newestFirst<T extends ObjectLiteral>(builder: SelectQueryBuilder<T>, key: string, take: number, after?: ListPosition): SelectQueryBuilder<T> {
  const alias = builder.alias;
  builder.orderBy(`${alias}.${key}`, 'DESC').addOrderBy(`${alias}.id`, 'DESC').limit(take);
  if (after) builder.andWhere(`(${alias}.${key}, ${alias}.id) < (:afterAt, :afterId)`, { afterAt: after.at, afterId: after.id });
  return builder;
}

/**
 * The same for a raw statement: `where` and `orderBy` on `key` and `id`, with the position as
 * parameters `$param` and `$param + 1` (both null for the first page; see `afterParams`).
 */
export function newestFirstSql(key: string, param: number): { where: string; orderBy: string } {
  return {
    where: `($${param}::timestamptz IS NULL OR (${key}, id) < ($${param}, $${param + 1}::uuid))`,
    orderBy: `ORDER BY ${key} DESC, id DESC`,
  };
}

export function afterParams(after: ListPosition | undefined): [Date | null, string | null] {
  return [after?.at ?? null, after?.id ?? null];
}

/** The position of a row in a list ordered by creation (apps, keys, subscriptions, calls without a window). */
export function creationPosition(row: { createdAt: Date; id: string }): ListPosition {
  return { at: row.createdAt, id: row.id };
}
