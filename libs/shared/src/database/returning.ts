/** TypeORM's postgres driver answers UPDATE … RETURNING with [rows, affectedCount]; this gives the rows. */
export function returningRows<T = Record<string, unknown>>(result: unknown): T[] {
  return Array.isArray(result) && Array.isArray(result[0]) ? (result[0] as T[]) : (result as T[]);
}
