import { Logger } from '@nestjs/common';
import { AppLogger, AppLoggerOptions } from './app-logger';
import { LogFields, runWithLogFields } from './log-context';

function collect(options: Partial<AppLoggerOptions> = {}): { logger: AppLogger; lines: string[]; json: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const logger = new AppLogger({ service: 'api', format: 'json', level: 'debug', destination: { write: (line: string) => lines.push(line) }, ...options });
  return { logger, lines, json: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('AppLogger', () => {
  it('writes one JSON object per line with level, time, msg, service and context', () => {
    const { logger, lines, json } = collect();
    logger.log('Worker started', 'Worker');
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    expect(json()[0]).toEqual({
      level: 'info',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      service: 'api',
      context: 'Worker',
      msg: 'Worker started',
    });
  });

  it("takes Nest's calling conventions: context last, a stack string or an Error as the error", () => {
    const { logger, json } = collect();
    const error = Object.assign(new TypeError('bad'), { code: 'E_BAD', parameters: ['a secret parameter'] });
    logger.error('failed', error, 'HTTP');
    logger.error('failed too', 'Error: x\n    at f (file.ts:1:1)', 'Nest');
    logger.warn({ some: 'object' }, 'Ctx');
    const [first, second, third] = json();
    expect(first).toMatchObject({ level: 'error', context: 'HTTP', msg: 'failed', error: { type: 'TypeError', code: 'E_BAD', message: 'bad' } });
    expect(String((first.error as { stack: string }).stack)).toContain('TypeError: bad');
    expect(JSON.stringify(first)).not.toContain('a secret parameter');
    expect(second).toMatchObject({ context: 'Nest', error: { type: 'Error', message: 'Error: x' } });
    expect(third).toMatchObject({ level: 'warn', context: 'Ctx', msg: '{"some":"object"}' });
  });

  it("goes through Nest's Logger once it is the application logger", () => {
    const { logger, json } = collect();
    Logger.overrideLogger(logger);
    try {
      new Logger('Dispatcher').warn('Redis is down');
      new Logger('Dispatcher').error('lost', new Error('boom'));
    } finally {
      Logger.overrideLogger(false);
    }
    expect(json()).toMatchObject([
      { level: 'warn', context: 'Dispatcher', msg: 'Redis is down' },
      { level: 'error', context: 'Dispatcher', msg: 'lost', error: { message: 'boom' } },
    ]);
  });

  it("puts the unit of work's fields on every line, fields added later included, and only inside it", async () => {
    const { logger, json } = collect({ service: 'worker' });
    const fields: LogFields = { delivery_id: 'd1', subscription_id: 's1' };
    await runWithLogFields(fields, async () => {
      logger.log('taken', 'Processor');
      await Promise.resolve();
      Object.assign(fields, { event_id: 'e1', attempt: 2 });
      logger.log('failed', 'Processor');
      runWithLogFields({ delivery_id: 'd2' }, () => logger.log('another', 'Processor'));
    });
    logger.log('outside', 'Processor');
    expect(json().map(({ delivery_id, subscription_id, event_id, attempt }) => ({ delivery_id, subscription_id, event_id, attempt }))).toEqual([
      { delivery_id: 'd1', subscription_id: 's1', event_id: undefined, attempt: undefined },
      { delivery_id: 'd1', subscription_id: 's1', event_id: 'e1', attempt: 2 },
      { delivery_id: 'd2', subscription_id: undefined, event_id: undefined, attempt: undefined },
      { delivery_id: undefined, subscription_id: undefined, event_id: undefined, attempt: undefined },
    ]);
  });

  it('takes the fields of a line as a plain object, beside the context and an error', () => {
    const { logger, json } = collect({ service: 'worker' });
    Logger.overrideLogger(logger);
    try {
      new Logger('Processor').log('attempt 1 failed', { delivery_id: 'd1', attempt: 1 });
      new Logger('Processor').error('could not record', new Error('deadlock'), { delivery_id: 'd2' });
    } finally {
      Logger.overrideLogger(false);
    }
    expect(json()).toMatchObject([
      { level: 'info', context: 'Processor', msg: 'attempt 1 failed', delivery_id: 'd1', attempt: 1 },
      { level: 'error', context: 'Processor', msg: 'could not record', delivery_id: 'd2', error: { message: 'deadlock' } },
    ]);
  });

  it('never writes a secret-named field, at the top or under headers', () => {
    const { logger, lines } = collect();
    logger.log('fields', { secret: 'whsec_top', headers: { authorization: 'Bearer key_1' }, request: { api_key: 'key_2', body: 'guest names' } });
    expect(lines[0]).not.toMatch(/whsec_top|key_1|key_2|guest names/);
    expect(JSON.parse(lines[0])).toMatchObject({
      secret: '[redacted]',
      headers: { authorization: '[redacted]' },
      request: { api_key: '[redacted]', body: '[redacted]' },
    });
  });

  it('keeps to its level', () => {
    const { logger, json } = collect({ level: 'warn' });
    logger.log('info line', 'X');
    logger.debug('debug line', 'X');
    logger.warn('warn line', 'X');
    expect(json().map((l) => l.msg)).toEqual(['warn line']);
    expect(logger.isLevelEnabled('log')).toBe(false);
  });

  it('writes readable text for a terminal, fields and stack included', () => {
    const { logger, lines } = collect({ format: 'text' });
    runWithLogFields({ request_id: 'r1' }, () => logger.error('failed', new Error('boom'), 'HTTP'));
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ERROR \[HTTP\] failed request_id=r1\n {2}Error: boom\n\s+at /);
  });
});
