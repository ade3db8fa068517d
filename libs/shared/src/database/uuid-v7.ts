import { randomUUID } from 'node:crypto';

/**
 * Time-ordered ids (RFC 9562 UUIDv7): the first 48 bits are the Unix time in milliseconds, so new
 * rows go to the right edge of every index on the id, and an id says which day's partition holds
 * its row. The rest is random (74 bits, from `randomUUID`).
 */
export function uuidV7(at: Date): string {
  const ms = at.getTime();
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > 0xffff_ffff_ffff) throw new RangeError(`uuidV7: ${at.toISOString()} is outside the 48-bit millisecond range`);
  const time = ms.toString(16).padStart(12, '0');
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15)}`;
}

/** The millisecond a UUIDv7 carries, or null for any other version (ids from before UUIDv7, or written outside the platform). */
export function uuidV7Millis(id: string): number | null {
  if (id.length !== 36 || id[14] !== '7') return null;
  const ms = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  return Number.isNaN(ms) ? null : ms;
}

/** Bounds of a partition-key range, as timestamptz parameters: ISO strings, or ±infinity when unknown. */
export interface TimeRange {
  from: string;
  to: string;
}

export const ALL_TIME: TimeRange = Object.freeze({ from: '-infinity', to: 'infinity' });

/**
 * The smallest [from, to) range of event times that holds every row whose id is listed, when all
 * ids are UUIDv7 whose time is the row's `event_at` (deliveries): passed as `event_at >= from AND
 * event_at < to`, it lets PostgreSQL prune the statement to the partitions of those days. An
 * older id makes the range unbounded, and the statement probes every partition.
 */
export function timeRangeOfIds(ids: readonly string[]): TimeRange {
  let min = Infinity;
  let max = -Infinity;
  for (const id of ids) {
    const ms = uuidV7Millis(id);
    if (ms === null) return ALL_TIME;
    if (ms < min) min = ms;
    if (ms > max) max = ms;
  }
  if (min === Infinity) return ALL_TIME;
  return { from: new Date(min).toISOString(), to: new Date(max + 1).toISOString() };
}
