import { isIsoInstant } from './validators';

describe(isIsoInstant.name, () => {
  it.each(['2026-12-01T09:30:00Z', '2026-12-01T09:30Z', '2026-12-01T09:30:00.123Z', '2026-12-01T09:30:00+02:00', '2028-02-29T00:00:00Z'])('accepts %s', (value) => {
    expect(isIsoInstant(value)).toBe(true);
  });

  it.each(['2026-12-01T09:30:00', '2026-12-01', '2027-02-29T00:00:00Z', '2026-02-30T10:00:00Z', '2026-13-01T00:00:00Z', '2026-12-01T24:00:00Z', '2026-12-01T09:60:00Z', 'tomorrow', ''])('refuses %s', (value) => {
    expect(isIsoInstant(value)).toBe(false);
  });
});
