import { readAhead } from '../../../server/export/engine/read-ahead.js';

/** A task source that records how many tasks run at once, and whether it was closed. */
function source(count: number, delays: (i: number) => number, fail?: number) {
  const seen = { running: 0, most: 0, started: 0, closed: false };
  async function* tasks(): AsyncIterable<() => Promise<number>> {
    try {
      for (let i = 0; i < count; i++) {
        yield async () => {
          seen.started++;
          seen.running++;
          seen.most = Math.max(seen.most, seen.running);
          await new Promise((resolve) => setTimeout(resolve, delays(i)));
          seen.running--;
          if (i === fail) throw new Error(`piece ${i} failed`);
          return i;
        };
      }
    } finally {
      seen.closed = true;
    }
  }
  return { tasks: tasks(), seen };
}

describe('readAhead: a download reads its next pieces while the current one is written', () => {
  it('gives every result in order, however long each took, with at most `window` running', async () => {
    // Later pieces finish first: the order must still be the tasks' order.
    const { tasks, seen } = source(7, (i) => (7 - i) * 3);
    const results: number[] = [];
    for await (const result of readAhead(tasks, 3)) results.push(result);
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(seen.most).toBe(3);
    expect(seen.closed).toBe(true);
  });

  it('with a window of one, reads one piece ahead of the consumer', async () => {
    const { tasks, seen } = source(4, () => 1);
    const iterator = readAhead(tasks, 1)[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: 0 });
    // While the consumer holds piece 0, piece 1 is already being read.
    expect(seen.started).toBe(2);
    await iterator.return?.();
  });

  it('a failed piece fails the consumer when it reaches that piece, not before', async () => {
    const { tasks } = source(5, (i) => (i === 3 ? 0 : 5), 3);
    const results: number[] = [];
    await expect(
      (async () => {
        for await (const result of readAhead(tasks, 2)) results.push(result);
      })(),
    ).rejects.toThrow('piece 3 failed');
    expect(results).toEqual([0, 1, 2]);
  });

  it('a consumer that stops early closes the source after the pieces in flight end', async () => {
    const { tasks, seen } = source(50, () => 2);
    for await (const result of readAhead(tasks, 2)) if (result === 1) break;
    expect(seen.closed).toBe(true);
    expect(seen.running).toBe(0);
    expect(seen.started).toBeLessThan(50);
  });
});
