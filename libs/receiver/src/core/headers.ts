import type { HeadersInput } from './types.js';

/**
 * Reads one header from any common header shape. Repeated headers yield every value,
 * so a caller can refuse ambiguity instead of silently picking one.
 */
export function readHeader(headers: HeadersInput, lowerName: string): string[] {
  if (headers == null) return [];
  if (typeof (headers as { get?: unknown }).get === 'function' && !Array.isArray(headers)) {
    const value = (headers as { get(name: string): string | null }).get(lowerName);
    return value == null ? [] : [value];
  }
  if (Array.isArray(headers)) return readArrayHeaders(headers, lowerName);
  const record = headers as Record<string, string | readonly string[] | undefined>;
  let value = record[lowerName];
  if (value === undefined) {
    // Plain objects built by hand (tests, serverless events) keep the sender's casing.
    for (const key of Object.keys(record)) {
      if (key.length === lowerName.length && key.toLowerCase() === lowerName) {
        value = record[key];
        break;
      }
    }
  }
  if (value === undefined || value === null) return [];
  return typeof value === 'string' ? [value] : value.filter((v): v is string => typeof v === 'string');
}

function readArrayHeaders(headers: readonly unknown[], lowerName: string): string[] {
  const values: string[] = [];
  if (headers.length > 0 && Array.isArray(headers[0])) {
    for (const pair of headers as ReadonlyArray<readonly [string, string]>) {
      if (typeof pair[0] === 'string' && pair[0].toLowerCase() === lowerName && typeof pair[1] === 'string') values.push(pair[1]);
    }
    return values;
  }
  // Node's rawHeaders: [name, value, name, value, ...]
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i];
    const value = headers[i + 1];
    if (typeof name === 'string' && name.toLowerCase() === lowerName && typeof value === 'string') values.push(value);
  }
  return values;
}

/** A single header value, or `undefined`; more than one distinct value is reported as `null`. */
export function readSingleHeader(headers: HeadersInput, lowerName: string): string | undefined | null {
  const values = readHeader(headers, lowerName);
  if (values.length === 0) return undefined;
  const first = values[0]!;
  for (let i = 1; i < values.length; i++) if (values[i] !== first) return null;
  return first;
}
