import type { LoggerService } from '@nestjs/common';
import pino, { Logger as Pino } from 'pino';
import { currentLogFields } from './log-context';

export type LogFormat = 'json' | 'text';
export type LogLevelSetting = 'debug' | 'info' | 'warn' | 'error';

export interface AppLoggerOptions {
  /** `api` or `worker`: the `service` field of every line. */
  service: string;
  format: LogFormat;
  level: LogLevelSetting;
  /** Where lines go; standard output by default. Tests pass a collector. */
  destination?: { write(line: string): unknown };
}

/** An error as a log line carries it: never the object itself, which may hold a query's parameters or a request's headers. */
export interface LoggedError {
  type: string;
  code?: string;
  message: string;
  stack?: string;
}

/**
 * Keys whose values never reach a log line, wherever they appear in a structured field (one level
 * deep, and under `headers`): a last guard, since messages are written not to contain them.
 */
const REDACTED = ['authorization', 'secret', 'previous_secret', 'api_key', 'apiKey', 'token', 'password', 'payload', 'body'].flatMap((key) => [
  key,
  `*.${key}`,
  `headers.${key}`,
  `*.headers.${key}`,
]);

const NEST_TO_PINO = { log: 'info', error: 'error', warn: 'warn', debug: 'debug', verbose: 'trace', fatal: 'fatal' } as const;
type NestLevel = keyof typeof NEST_TO_PINO;

/**
 * The logger of both processes, behind Nest's LoggerService so Nest's own lines (and every
 * `new Logger(Context)`) go through it: pino, writing one JSON object per line (`level`, `time`,
 * `msg`, `service`, `context`, and the fields of the line: the request's `request_id` in the API,
 * through log-context.ts; `delivery_id`, `subscription_id`, `event_id` and `attempt` in the worker,
 * passed by the caller), or the same lines as readable text for a
 * developer's terminal. pino rather than nestjs-pino: that module brings pino-http, whose request
 * logging we replace with one access line of our own (request-logging.ts), and it would be
 * one more module to wire in both apps for what is this one class.
 */
export class AppLogger implements LoggerService {
  private readonly pino: Pino;

  constructor(readonly options: AppLoggerOptions) {
    const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
    this.pino = pino(
      {
        level: options.level,
        base: { service: options.service },
        messageKey: 'msg',
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        mixin: () => currentLogFields() ?? {},
        redact: { paths: REDACTED, censor: '[redacted]' },
      },
      options.format === 'text' ? new TextLines(destination) : destination,
    );
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('log', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('verbose', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  isLevelEnabled(level: NestLevel): boolean {
    return this.pino.isLevelEnabled(NEST_TO_PINO[level]);
  }

  /**
   * Nest calls `log(message, context)`, `error(message, stack, context)` and `error(message, context)`;
   * our code also passes fields of the line as a plain object (`logger.log('…', { delivery_id })`),
   * and an Error (`logger.error('… failed', error)`), logged as `error`
   * (type, code, message, stack; not `err`, which pino would serialize with all of the error's own fields).
   */
  private write(level: NestLevel, message: unknown, params: unknown[]): void {
    const pinoLevel = NEST_TO_PINO[level];
    if (!this.pino.isLevelEnabled(pinoLevel)) return;
    const fields: Record<string, unknown> = {};
    const rest = [...params];
    if (rest.length > 0 && typeof rest[rest.length - 1] === 'string' && !looksLikeStack(rest[rest.length - 1] as string)) {
      fields.context = rest.pop();
    }
    for (const param of rest) {
      if (param instanceof Error) fields.error = loggedError(param);
      else if (isPlainObject(param)) Object.assign(fields, param);
      else if (typeof param === 'string' && looksLikeStack(param)) fields.error = { type: 'Error', message: firstLine(param), stack: param };
    }
    let msg: string;
    if (message instanceof Error) {
      fields.error ??= loggedError(message);
      msg = message.message;
    } else {
      msg = typeof message === 'string' ? message : safeJson(message);
    }
    this.pino[pinoLevel](fields, msg);
  }
}

export function loggedError(error: Error): LoggedError {
  const code = (error as { code?: unknown }).code;
  return {
    type: error.constructor?.name ?? error.name,
    ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}),
    message: error.message,
    ...(error.stack ? { stack: error.stack } : {}),
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function looksLikeStack(text: string): boolean {
  return /\n\s+at /.test(text);
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0];
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Text for a developer's terminal: `12:00:00.000 INFO  [Context] message key=value`, the stack of an
 * error under it. It formats pino's JSON lines, so redaction and the context fields are the same.
 */
class TextLines {
  constructor(private readonly out: { write(line: string): unknown }) {}

  write(json: string): void {
    const { level, time, msg, service, context, error: err, ...fields } = JSON.parse(json) as Record<string, unknown>;
    void service;
    const clock = typeof time === 'string' ? time.slice(11, 23) : '';
    const extra = Object.entries(fields).map(([key, value]) => `${key}=${typeof value === 'string' ? value : safeJson(value)}`);
    const error = err as LoggedError | undefined;
    const head = [clock, String(level).toUpperCase().padEnd(5), context ? `[${String(context)}]` : '', String(msg ?? ''), ...extra].filter(Boolean).join(' ');
    const tail = error ? `\n  ${error.stack ?? `${error.type}: ${error.message}`}` : '';
    this.out.write(`${head}${tail}\n`);
  }
}

/**
 * A logger for the start of a process, before (or instead of) its configuration: the format and level
 * its environment asks for where they are valid, so a start failure is one line a log pipeline reads.
 */
export function startupLogger(service: string, format: LogFormat): AppLogger {
  return new AppLogger({ service, format, level: 'info' });
}
