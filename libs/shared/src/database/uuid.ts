/** A UUID in its canonical text form (any version), as a regular-expression source: for JSON Schema patterns. */
export const UUID_PATTERN_SOURCE = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** A whole string that is a UUID, either case: what PostgreSQL's uuid type accepts in canonical form. */
export const UUID_PATTERN = new RegExp(`^${UUID_PATTERN_SOURCE}$`, 'i');
