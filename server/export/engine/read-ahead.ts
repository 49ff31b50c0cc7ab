/**
 * The results of `tasks`, in order, with up to `window` of them running at once: a download reads its next pieces
 * from the database while the current one is written to the client, and on PostgreSQL on more than one connection
 * (a piece's statement is the database's work: with one at a time the server process sat idle most of the time,
 * docs/PERFORMANCE.md "Bulk export"). Holds at most `window` + 1 results. Stopping early waits for the pieces in
 * flight and closes `tasks`.
 */
export async function* readAhead<T>(tasks: AsyncIterable<() => Promise<T>>, window: number): AsyncIterable<T> {
  const iterator = tasks[Symbol.asyncIterator]();
  const running: Promise<T>[] = [];
  let exhausted = false;
  const fill = async () => {
    while (!exhausted && running.length < window) {
      const next = await iterator.next();
      if (next.done) {
        exhausted = true;
        return;
      }
      const result = next.value();
      // A failure is the consumer's when it reaches that piece; until then it is not an unhandled rejection.
      result.catch(() => undefined);
      running.push(result);
    }
  };
  try {
    for (;;) {
      await fill();
      const head = running.shift();
      if (!head) return;
      const value = await head;
      // The window is full again before the consumer takes its time with this one.
      await fill();
      yield value;
    }
  } finally {
    await Promise.allSettled(running);
    if (!exhausted) await iterator.return?.();
  }
}
