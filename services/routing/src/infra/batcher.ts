/**
 * Gathers the calls made in one turn of the event loop into one batch for `run`, which returns
 * one result per item in order. Under load this turns N transactions (N commits, N fsyncs) into a
 * few; when idle a batch is a single item and costs one `setImmediate`.
 */
export function createBatcher<I, O>(run: (items: I[]) => Promise<O[]>, maxBatch = 200) {
  let queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  let scheduled = false;

  async function flush(): Promise<void> {
    scheduled = false;
    const all = queue;
    queue = [];
    for (let i = 0; i < all.length; i += maxBatch) {
      const part = all.slice(i, i + maxBatch);
      try {
        const results = await run(part.map((p) => p.item));
        for (const [j, p] of part.entries()) p.resolve(results[j] as O);
      } catch (err) {
        for (const p of part) p.reject(err);
      }
    }
  }

  return (item: I): Promise<O> =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => void flush());
      }
    });
}
