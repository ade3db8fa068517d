import { scanEnvelope } from './envelope.js';
import { WebhookError } from './errors.js';

const scan = (text: string) => scanEnvelope(Buffer.from(text));

describe(scanEnvelope.name, () => {
  it('reads the four top-level fields and stops before the payload', () => {
    expect(scan('{"id":"e1","event":"scheduled.created","deliveredAt":"2030-01-01T00:00:00.000Z","attempt":2,"payload":{ not even json')).toEqual({
      id: 'e1',
      event: 'scheduled.created',
      deliveredAtMs: Date.parse('2030-01-01T00:00:00.000Z'),
      attempt: 2,
    });
  });

  it('ignores the same keys nested inside other values, whatever the order', () => {
    const body = JSON.stringify({
      payload: { scheduled_call: { metadata: { id: 'nested', deliveredAt: '1999-01-01T00:00:00Z', attempt: 99, list: [{ event: 'x' }, '"}]'] } } },
      note: 'a "quoted" } string with \\ backslash',
      id: 'top',
      event: 'scheduled.no_show',
      deliveredAt: '2030-01-01T00:00:00.000Z',
      attempt: 1,
    });

    expect(scan(body)).toEqual({ id: 'top', event: 'scheduled.no_show', deliveredAtMs: Date.parse('2030-01-01T00:00:00.000Z'), attempt: 1 });
  });

  it('decodes escaped strings and tolerates whitespace', () => {
    expect(scan(' { "id" : "e\\u0031\\"" ,\n\t"event":"scheduled.created", "deliveredAt" : "t" , "attempt" : 3 } ')).toEqual({
      id: 'e1"',
      event: 'scheduled.created',
      deliveredAtMs: Number.NaN,
      attempt: 3,
    });
  });

  it('decodes non-ASCII ids and unknown event names', () => {
    expect(scan('{"id":"évt-ü","event":"scheduled.créé"}')).toEqual({ id: 'évt-ü', event: 'scheduled.créé' });
  });

  it.each([
    ['2030-01-15T13:00:00.123Z', Date.UTC(2030, 0, 15, 13, 0, 0, 123)],
    ['2030-01-15T13:00:00Z', Date.UTC(2030, 0, 15, 13, 0, 0)],
    ['2030-01-15T15:00:00.000+02:00', Date.UTC(2030, 0, 15, 13, 0, 0)],
    ['2030-13-15T13:00:00.000Z', Number.NaN],
    ['2030-01-15T13:60:00.000Z', Number.NaN],
    ['2030-0a-15T13:00:00.000Z', Number.NaN],
    ['not a date', Number.NaN],
  ])('reads deliveredAt %s as epoch ms like Date.parse', (text, expected) => {
    expect(scan(`{"deliveredAt":"${text}"}`).deliveredAtMs).toBe(expected);
  });

  it.each([
    ['1', 1],
    ['12', 12],
    ['1.0', 1],
    ['1e1', 10],
    ['-1', -1],
  ])('reads attempt %s as %d', (text, expected) => {
    expect(scan(`{"attempt":${text}}`).attempt).toBe(expected);
  });

  it.each(['true', 'false', 'null', '{"n":1}', '[1]'])(
    'reads an attempt of valid JSON that is no number (%s) as NaN, for the invalid_payload check',
    (text) => {
      expect(scan(`{"attempt":${text}}`).attempt).toBeNaN();
    },
  );

  it('returns what it found when fields are missing', () => {
    expect(scan('{"id":"e1","attempt":1,"payload":{}}')).toEqual({ id: 'e1', attempt: 1 });
    expect(scan('{}')).toEqual({});
  });

  it('does not take a non-string id as the id', () => {
    expect(scan('{"id":42,"event":"x","deliveredAt":"t","attempt":1}').id).toBeUndefined();
  });

  it.each([
    '',
    'null',
    '[]',
    '{"id"',
    '{"id":"e1"',
    '{"id":"e1",}',
    '{"id" "e1"}',
    '{"id":"e1" "event":"x"}',
    '{"a":{"b":1}',
    '{"id":"unterminated',
    '{"id":"e\u0001"}',
    '{"attempt":abc}',
  ])('reports invalid_json for %j', (text) => {
    let thrown: unknown;
    try {
      scan(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(WebhookError);
    expect((thrown as WebhookError).code).toBe('invalid_json');
  });
});
