import type { HeadersInput } from './types.js';

/** How a headers value is read; decided once per verification so each lookup stays a property read. */
export const HeaderShape = {
  /** Node's `req.headers`: lower-cased keys. */
  LowerCaseRecord: 0,
  /** A hand-built object that may keep the sender's casing. */
  MixedCaseRecord: 1,
  /** Fetch `Headers` or anything with `get(name)`. */
  Getter: 2,
  /** `[name, value]` pairs. */
  Pairs: 3,
  /** Node's `rawHeaders`: `[name, value, name, value, ...]`. */
  Flat: 4,
} as const;
export type HeaderShape = (typeof HeaderShape)[keyof typeof HeaderShape];

export function headerShape(headers: HeadersInput, probeLowerName: string): HeaderShape {
  if (Array.isArray(headers)) return headers.length > 0 && Array.isArray(headers[0]) ? HeaderShape.Pairs : HeaderShape.Flat;
  if (typeof (headers as { get?: unknown }).get === 'function') return HeaderShape.Getter;
  // If the header every delivery carries is found lower-cased, the object is Node-style and needs no scans.
  return (headers as Record<string, unknown>)[probeLowerName] !== undefined ? HeaderShape.LowerCaseRecord : HeaderShape.MixedCaseRecord;
}

/**
 * One header as a single value: `undefined` when absent, `null` when repeated with different
 * values (so the caller can refuse ambiguity instead of silently picking one).
 */
export function readSingleHeader(headers: HeadersInput, lowerName: string, shape: HeaderShape = headerShape(headers, lowerName)): string | undefined | null {
  switch (shape) {
    case HeaderShape.LowerCaseRecord:
      return single((headers as Record<string, string | readonly string[] | undefined>)[lowerName]);
    case HeaderShape.Getter: {
      const value = (headers as { get(name: string): string | null }).get(lowerName);
      return value ?? undefined;
    }
    case HeaderShape.MixedCaseRecord: {
      const record = headers as Record<string, string | readonly string[] | undefined>;
      const direct = record[lowerName];
      if (direct !== undefined) return single(direct);
      for (const key of Object.keys(record)) {
        if (key.length === lowerName.length && key.toLowerCase() === lowerName) return single(record[key]);
      }
      return undefined;
    }
    default:
      return single(readArrayHeaders(headers as readonly unknown[], lowerName, shape === HeaderShape.Pairs));
  }
}

function single(value: string | readonly string[] | undefined | null): string | undefined | null {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return undefined;
  const values = value.filter((v): v is string => typeof v === 'string');
  if (values.length === 0) return undefined;
  return values.every((v) => v === values[0]) ? values[0] : null;
}

function readArrayHeaders(headers: readonly unknown[], lowerName: string, pairs: boolean): string[] {
  const values: string[] = [];
  if (pairs) {
    for (const pair of headers as ReadonlyArray<readonly [unknown, unknown]>) {
      if (typeof pair[0] === 'string' && pair[0].toLowerCase() === lowerName && typeof pair[1] === 'string') values.push(pair[1]);
    }
    return values;
  }
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i];
    const value = headers[i + 1];
    if (typeof name === 'string' && name.toLowerCase() === lowerName && typeof value === 'string') values.push(value);
  }
  return values;
}
