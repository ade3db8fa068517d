import { MicroBatcher } from './micro-batcher';

function makeSut(run: (items: number[]) => Promise<number[]>, maxBatch = 100, maxInFlight = 1) {
  const batches: number[][] = [];
  const sut = new MicroBatcher<number, number>(
    async (items) => {
      batches.push(items);
      return run(items);
    },
    maxBatch,
    maxInFlight,
  );
  return { sut, batches };
}

describe(MicroBatcher.name, () => {
  it('sends items submitted in the same turn as one batch and answers each caller', async () => {
    const { sut, batches } = makeSut(async (items) => items.map((i) => i * 10));
    await expect(Promise.all([1, 2, 3].map((i) => sut.submit(i)))).resolves.toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('queues items while the in-flight limit is reached and sends them together afterwards', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { sut, batches } = makeSut(async (items) => {
      if (items[0] === 1) await gate;
      return items;
    });
    const first = sut.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [2, 3, 4].map((i) => sut.submit(i));
    release();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('with a window, gathers items submitted over several turns of the event loop into one batch', async () => {
    jest.useFakeTimers();
    try {
      const batches: number[][] = [];
      const sut = new MicroBatcher<number, number>(async (items) => (batches.push(items), items), 100, 4, 2);
      const first = sut.submit(1);
      await Promise.resolve();
      const second = sut.submit(2);
      jest.advanceTimersByTime(1);
      const third = sut.submit(3);
      expect(batches).toEqual([]);
      jest.advanceTimersByTime(1);
      await Promise.all([first, second, third]);
      expect(batches).toEqual([[1, 2, 3]]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('splits at the batch size', async () => {
    const { sut, batches } = makeSut(async (items) => items, 2, 10);
    await Promise.all([1, 2, 3, 4, 5].map((i) => sut.submit(i)));
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('fails only the item that makes a batch fail', async () => {
    const { sut } = makeSut(async (items) => {
      if (items.includes(2)) throw new Error('bad row 2');
      return items;
    });
    const results = await Promise.allSettled([1, 2, 3].map((i) => sut.submit(i)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('bad row 2'));
  });
});
