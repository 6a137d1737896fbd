import PQueue from 'p-queue';

/**
 * Ordered parallel map with bounded in-flight work: the consumer pulling results is what lets the
 * producer read more, so a slow stage slows the reader instead of filling memory.
 */
export async function* mapConcurrent<T, U>(input: AsyncIterable<T>, fn: (t: T) => Promise<U>, concurrency: number): AsyncGenerator<U> {
  const queue = new PQueue({ concurrency });
  const pending: Promise<U>[] = [];
  const limit = Math.max(1, concurrency * 2);
  try {
    for await (const item of input) {
      const p = queue.add(() => fn(item)) as Promise<U>;
      p.catch(() => undefined); // surfaced in order by the await below
      pending.push(p);
      while (pending.length >= limit) yield await pending.shift()!;
    }
    while (pending.length > 0) yield await pending.shift()!;
  } finally {
    queue.clear();
  }
}

/** Reads ahead up to `depth` items on a separate chain so I/O overlaps with the consumer's CPU work. */
export async function* prefetch<T>(input: AsyncIterable<T>, depth: number): AsyncGenerator<T> {
  const it = input[Symbol.asyncIterator]();
  const buffered: Promise<IteratorResult<T>>[] = [];
  let done = false;
  const fill = (): void => {
    while (!done && buffered.length < depth) {
      const p = it.next();
      buffered.push(p);
      // Stop requesting once an end (or an error, surfaced in order by the await below) is seen.
      p.then(
        (r) => {
          if (r.done) done = true;
        },
        () => {
          done = true;
        },
      );
    }
  };
  try {
    for (;;) {
      fill();
      const r = await buffered.shift()!;
      if (r.done) return;
      yield r.value;
    }
  } finally {
    if (!done) await it.return?.();
  }
}
