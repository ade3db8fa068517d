/**
 * Small, dependency-free parsers for environment values. Each returns the typed value or records a
 * problem, so a config loader can report every bad variable at once instead of the first one.
 */
export type Env = Record<string, string | undefined>;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `5s`, `5m`, `2h`, `5d` (a bare number is milliseconds) into milliseconds. */
export function parseDuration(raw: string): number {
  const value = raw.trim();
  if (/^\d+$/.test(value)) return Number(value);
  const match = DURATION.exec(value);
  if (!match) throw new Error(`"${raw}" is not a duration (use a number with ms, s, m, h or d, e.g. 5m)`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2]]);
}

export class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  string(name: string, fallback: string): string;
  string(name: string, fallback?: undefined): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    const raw = this.env[name];
    return raw === undefined || raw === '' ? fallback : raw;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (/^(true|1|yes)$/i.test(raw)) return true;
    if (/^(false|0|no)$/i.test(raw)) return false;
    this.problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  }

  duration(name: string, fallback: string): number {
    const raw = this.string(name, fallback);
    try {
      return parseDuration(raw);
    } catch (error) {
      this.problems.push(`${name}: ${(error as Error).message}`);
      return parseDuration(fallback);
    }
  }

  durationList(name: string, fallback: string): number[] {
    const raw = this.string(name, fallback);
    try {
      const list = raw.split(',').map((part) => parseDuration(part));
      if (list.length === 0) throw new Error('needs at least one duration');
      return list;
    } catch (error) {
      this.problems.push(`${name}: ${(error as Error).message}`);
      return fallback.split(',').map((part) => parseDuration(part));
    }
  }

  url(name: string, fallback: string, protocols: string[]): string {
    const raw = this.string(name, fallback);
    try {
      const url = new URL(raw);
      if (!protocols.includes(url.protocol)) throw new Error(`protocol must be ${protocols.join(' or ')}`);
      return raw;
    } catch (error) {
      this.problems.push(`${name} is not a valid URL (${(error as Error).message})`);
      return fallback;
    }
  }

  /** Throws one error listing every problem found, so an operator fixes them in one go. */
  assertValid(what: string): void {
    if (this.problems.length > 0) {
      throw new ConfigError(`Invalid ${what} configuration:\n  - ${this.problems.join('\n  - ')}`);
    }
  }
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
