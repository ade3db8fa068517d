import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { isIsoInstant, Optional } from './validators';
import { ApiError } from './api-error';

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

/** Lists are ordered newest first by (created_at, id), the delivery log by (event_at, id); the cursor is that pair of the last row. */
export interface ListPosition {
  createdAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Decodes and checks a list cursor, so a forged one is a 400 and never reaches a query. */
export function decodePosition(cursor: string): ListPosition {
  const [createdAt, id] = decodeCursor(cursor, ['string', 'string']) as [string, string];
  // An instant PostgreSQL can store (a forged `-271821-04-20` was "timestamp out of range", a 500).
  if (!isIsoInstant(createdAt) || !UUID.test(id)) {
    throw ApiError.badRequest('invalid_cursor', 'The cursor is not valid: pass next_cursor from a previous page unchanged.');
  }
  return { createdAt: new Date(createdAt), id };
}

/** Fetch limit + 1 rows; the extra one only says whether another page exists. */
export function toPage<Row, Out>(rows: Row[], limit: number, map: (row: Row) => Out, keyOf: (row: Row) => Array<string | number>): Page<Out> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { data: kept.map(map), next_cursor: more ? encodeCursor(keyOf(kept[kept.length - 1])) : null };
}
