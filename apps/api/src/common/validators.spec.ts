import { isIsoInstant, isTimeZone } from './validators';

describe(isIsoInstant.name, () => {
  it.each(['2026-12-01T09:30:00Z', '2026-12-01T09:30Z', '2026-12-01T09:30:00.123Z', '2026-12-01T09:30:00+02:00', '2028-02-29T00:00:00Z'])(
    'accepts %s',
    (value) => {
      expect(isIsoInstant(value)).toBe(true);
    },
  );

  it.each([
    '2026-12-01T09:30:00',
    '2026-12-01',
    '2027-02-29T00:00:00Z',
    '2026-02-30T10:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-12-01T24:00:00Z',
    '2026-12-01T09:60:00Z',
    'tomorrow',
    '',
  ])('refuses %s', (value) => {
    expect(isIsoInstant(value)).toBe(false);
  });
});

describe(isTimeZone.name, () => {
  it.each(['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'Asia/Kolkata'])('accepts %s', (zone) => {
    expect(isTimeZone(zone)).toBe(true);
  });

  it.each(['Mars/Olympus_Mons', '', 'Europe/Paris ', 42, null])('refuses %p, also the second time', (zone) => {
    expect(isTimeZone(zone)).toBe(false);
    expect(isTimeZone(zone)).toBe(false);
  });
});
