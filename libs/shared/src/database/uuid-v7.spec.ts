import { ALL_TIME, timeRangeOfIds, uuidV7, uuidV7Millis } from './uuid-v7';

describe('UUIDv7', () => {
  it('carries the millisecond it was made for, with version 7 and the RFC variant', () => {
    const at = new Date('2026-12-01T08:09:57.684Z');
    const id = uuidV7(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidV7Millis(id)).toBe(at.getTime());
    expect(uuidV7(at)).not.toBe(id);
  });

  it('sorts by time as text and as PostgreSQL compares uuids (bytewise)', () => {
    const ids = [0, 1, 1_000, 86_400_000].map((ms) => uuidV7(new Date(1_764_547_200_000 + ms)));
    expect([...ids].sort()).toEqual(ids);
  });

  it('reads no time from other versions, so their rows are looked up in every partition', () => {
    expect(uuidV7Millis('3b241101-e2bb-4255-8caf-4136c566a962')).toBeNull();
    expect(uuidV7Millis('not-a-uuid')).toBeNull();
    expect(timeRangeOfIds(['3b241101-e2bb-4255-8caf-4136c566a962', uuidV7(new Date())])).toBe(ALL_TIME);
    expect(timeRangeOfIds([])).toBe(ALL_TIME);
  });

  it('bounds a batch of ids by its earliest and latest millisecond, end exclusive', () => {
    const a = new Date('2026-12-01T00:00:00.000Z');
    const b = new Date('2026-12-03T10:00:00.250Z');
    expect(timeRangeOfIds([uuidV7(b), uuidV7(a)])).toEqual({ from: a.toISOString(), to: '2026-12-03T10:00:00.251Z' });
  });

  it('refuses times outside its 48 bits of milliseconds', () => {
    expect(() => uuidV7(new Date(-1))).toThrow(RangeError);
  });
});
