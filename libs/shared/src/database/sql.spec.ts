import { queryRows, sqlList, unnestInput, type Queryable } from './sql';

describe('unnestInput', () => {
  const items = [
    { id: 'a', n: 1 },
    { id: 'b', n: 2 },
  ];

  it('numbers each column beside its type and names the columns in the same order', () => {
    const input = unnestInput(items, { id: ['uuid', (i) => i.id], n: ['int', (i) => i.n] }, 3, 'input');
    expect(input.sql).toBe('unnest($3::uuid[], $4::int[]) AS input(id, n)');
    expect(input.columns).toBe('id, n');
    expect(input.params).toEqual([
      ['a', 'b'],
      [1, 2],
    ]);
    expect(input.nextParam).toBe(5);
  });

  it('keeps each value with its own column, whatever the order the columns are declared in', () => {
    const input = unnestInput(items, { n: ['int', (i) => i.n], id: ['uuid', (i) => i.id] });
    expect(input.sql).toBe('unnest($1::int[], $2::uuid[]) AS t(n, id)');
    expect(input.params).toEqual([
      [1, 2],
      ['a', 'b'],
    ]);
  });
});

describe('sqlList', () => {
  it('writes constants as literals', () => {
    expect(sqlList(['pending', 'retrying'])).toBe("('pending', 'retrying')");
  });

  it('refuses anything that is not a plain constant', () => {
    expect(() => sqlList(["x') OR ('1"])).toThrow('not a SQL constant');
  });
});

describe('queryRows', () => {
  const returning = (raw: unknown) => ({ query: () => Promise.resolve(raw) }) as unknown as Queryable;

  it('gives the rows of an UPDATE … RETURNING, which TypeORM answers as [rows, count]', async () => {
    await expect(queryRows(returning([[{ id: 'a' }], 1]), 'UPDATE …')).resolves.toEqual([{ id: 'a' }]);
  });

  it('gives the rows of a SELECT as they are, two rows included', async () => {
    const rows = [{ id: 'a' }, { id: 'b' }];
    await expect(queryRows(returning(rows), 'SELECT …')).resolves.toBe(rows);
  });
});
