import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { isIsoInstant, Optional } from './validators';
import { ApiError } from './api-error';
import type { ListPosition } from '@app/shared/database/keyset';
import { UUID_PATTERN } from '@app/shared/database/uuid';

export class PageQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20 })
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'The next_cursor of the previous page.' })
  @Optional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** Opaque cursors: base64url of a small JSON array holding the last row's sort key. */
export function encodeCursor(parts: Array<string | number>): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeCursor(cursor: string, shape: Array<'string' | 'number'>): Array<string | number> {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  if (!Array.isArray(parts) || parts.length !== shape.length || parts.some((part, i) => typeof part !== shape[i])) {
    throw ApiError.badRequest('invalid_cursor', 'The cursor is not valid: pass next_cursor from a previous page unchanged.');
  }
  return parts as Array<string | number>;
}

/**
 * Decodes and checks a list cursor (the last row's `ListPosition`, see libs/shared/src/database/keyset.ts),
 * so a forged one is a 400 and never reaches a query.
 */
export function decodePosition(cursor: string): ListPosition {
  const [at, id] = decodeCursor(cursor, ['string', 'string']) as [string, string];
  // An instant PostgreSQL can store (a forged `-271821-04-20` was "timestamp out of range", a 500).
  if (!isIsoInstant(at) || !UUID_PATTERN.test(id)) {
    throw ApiError.badRequest('invalid_cursor', 'The cursor is not valid: pass next_cursor from a previous page unchanged.');
  }
  return { at: new Date(at), id };
}

/** The position in `query.cursor`, if any. */
export function positionAfter(query: PageQuery): ListPosition | undefined {
  return query.cursor ? decodePosition(query.cursor) : undefined;
}

/** Fetch limit + 1 rows; the extra one only says whether another page exists. The cursor is the last kept row's position. */
export function toPage<Row, Out>(rows: Row[], limit: number, map: (row: Row) => Out, positionOf: (row: Row) => ListPosition): Page<Out> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = more ? positionOf(kept[kept.length - 1]) : null;
  return { data: kept.map(map), next_cursor: last ? encodeCursor([last.at.toISOString(), last.id]) : null };
}
