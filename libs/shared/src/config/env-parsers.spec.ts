import { EnvReader, parseDuration } from './env-parsers';

describe(parseDuration.name, () => {
  it.each([
    ['250ms', 250],
    ['5s', 5_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['5d', 432_000_000],
    ['0s', 0],
    ['1500', 1500],
    ['1.5s', 1500],
  ])('reads %s as %d ms', (raw, ms) => {
    expect(parseDuration(raw)).toBe(ms);
  });

  it.each(['', 'soon', '5 minutes', '-5s', '5w'])('refuses %p with a hint', (raw) => {
    expect(() => parseDuration(raw)).toThrow(/not a duration/);
  });
});

describe(EnvReader.name, () => {
  it('collects every problem and reports them at once', () => {
    const sut = new EnvReader({ PORT: 'eighty', FLAG: 'maybe', WAIT: 'later', LIST: '1s,x' });
    sut.int('PORT', 3000, 0, 65535);
    sut.bool('FLAG', false);
    sut.duration('WAIT', '1s');
    sut.durationList('LIST', '0s,5s');
    expect(() => sut.assertValid('test')).toThrow(/PORT[\s\S]*FLAG[\s\S]*WAIT[\s\S]*LIST/);
  });

  it('uses defaults for unset and empty variables', () => {
    const sut = new EnvReader({ EMPTY: '' });
    expect(sut.int('EMPTY', 7, 0, 10)).toBe(7);
    expect(sut.durationList('UNSET', '0s,5s,5m')).toEqual([0, 5_000, 300_000]);
    expect(() => sut.assertValid('test')).not.toThrow();
  });
});
