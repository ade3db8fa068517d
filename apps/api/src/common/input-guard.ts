import type { FieldError } from './api-error';

/** Deeper JSON than this is refused before anything walks it recursively (class-transformer would overflow the stack). */
export const MAX_JSON_DEPTH = 32;
const MAX_FIELD_PATH = 200;
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Finds the first value in a parsed JSON body or query object that the API cannot store or should
 * not accept, whatever the route: a NUL character or a lone UTF-16 surrogate in any string or key
 * (PostgreSQL refuses both in text and jsonb), a number JSON.parse turned into Infinity (`1e400`,
 * which jsonb would store as null), and nesting deeper than MAX_JSON_DEPTH. Iterative, so hostile
 * nesting cannot overflow the stack here either. Returns null when the value is clean.
 */
export function findUnacceptableValue(root: unknown): FieldError | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: root, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    const field = fieldName(path);
    if (typeof value === 'string') {
      const problem = textProblem(value);
      if (problem) return { field, message: `${field} ${problem}` };
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return { field, message: `${field} must be a finite number` };
    } else if (typeof value === 'object' && value !== null) {
      if (depth >= MAX_JSON_DEPTH) return { field, message: `${field} nests more than ${MAX_JSON_DEPTH} levels` };
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: `${path}[${i}]`, depth: depth + 1 });
      } else {
        const keys = Object.keys(value);
        for (let i = keys.length - 1; i >= 0; i--) {
          const key = keys[i];
          const child = path ? `${path}.${key}` : key;
          const problem = textProblem(key);
          if (problem) return { field: fieldName(child), message: `a key in ${field} ${problem}` };
          // class-transformer silently drops these, so whitelisting never saw them: refuse them outright.
          if (RESERVED_KEYS.has(key)) return { field: fieldName(child), message: `${fieldName(child)} is not a known field` };
          stack.push({ value: (value as Record<string, unknown>)[key], path: child, depth: depth + 1 });
        }
      }
    }
  }
  return null;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain NUL characters (\\u0000)';
  if (LONE_SURROGATE.test(text)) return 'must be valid Unicode text (it has a lone surrogate)';
  return null;
}

function fieldName(path: string): string {
  const name = path || 'body';
  // The path is built from the client's own keys: keep it short, and printable in a message.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this replaces
  const printable = name.replace(/[\u0000-\u001f\u007f]/g, '?');
  return printable.length > MAX_FIELD_PATH ? `${printable.slice(0, MAX_FIELD_PATH)}…` : printable;
}
