import { registerDecorator, ValidateIf, ValidationOptions } from 'class-validator';

/**
 * May be left out, but not sent as null (class-validator's IsOptional lets null through, and a
 * null on a NOT NULL column was a 500). A field that may be null says so with a second
 * `ValidateIf((_, value) => value !== null)`.
 */
export function Optional(): PropertyDecorator {
  return ValidateIf((_, value) => value !== undefined);
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO-8601 date-time with an explicit offset (`Z` or `+02:00`): a local time would be ambiguous. */
export function IsIsoInstant(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isIsoInstant',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: '$property must be an ISO-8601 date-time with a UTC offset, e.g. 2026-12-01T09:30:00Z', ...options },
      validator: {
        validate: (value: unknown) => typeof value === 'string' && isIsoInstant(value),
      },
    });
}

/** Date.parse rolls 30 February over to March, so the fields are checked against the calendar. */
export function isIsoInstant(value: string): boolean {
  const match = ISO_INSTANT.exec(value);
  if (!match || Number.isNaN(Date.parse(value))) return false;
  const [year, month, day] = value.slice(0, 10).split('-').map(Number);
  // Four digits already keep it under PostgreSQL's upper bound; year 0 does not exist there.
  if (year < 1) return false;
  const [hour, minute, second = 0] = value
    .slice(11, 19)
    .split(/[:.Z+-]/)
    .filter(Boolean)
    .map(Number);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 59;
}

const knownTimeZones = new Map<string, boolean>();

/**
 * An IANA time zone name. class-validator's IsTimeZone builds an Intl.DateTimeFormat on every call,
 * which was 11% of the API's CPU under the create benchmark; the answer per name is cached here.
 */
export function isTimeZone(value: unknown): boolean {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) return false;
  let known = knownTimeZones.get(value);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: value });
      known = true;
    } catch {
      known = false;
    }
    if (knownTimeZones.size < 2_000) knownTimeZones.set(value, known);
  }
  return known;
}

export function IsIanaTimeZone(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isIanaTimeZone',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: '$property must be an IANA time zone name, e.g. Europe/Paris', ...options },
      validator: { validate: isTimeZone },
    });
}

/** A plain JSON object whose serialised form fits in `maxBytes` and nests at most `maxDepth` levels. */
export function IsBoundedJsonObject(maxBytes: number, maxDepth: number, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isBoundedJsonObject',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: `$property must be a JSON object of at most ${maxBytes} bytes and ${maxDepth} levels`, ...options },
      validator: {
        validate: (value: unknown) => isPlainObject(value) && depth(value) <= maxDepth && Buffer.byteLength(JSON.stringify(value)) <= maxBytes,
      },
    });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function depth(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let deepest = 0;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depth(child));
  return deepest + 1;
}
