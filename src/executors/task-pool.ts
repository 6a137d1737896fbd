import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parentPort, Worker, type Transferable } from 'node:worker_threads';
import { errorFromWorker, postableError, threadExited, type WorkerError } from './worker-thread.js';

/** Threads a barrier stage may use: `execution.workers`, with `auto` every core. */
export function threadCount(setting: number | 'auto'): number {
  return setting === 'auto' ? availableParallelism() : setting;
}

export interface TaskPool<I, O> {
  /** Runs one task on an idle thread; callers keep at most `size` tasks running (see runConcurrent). */
  run: (input: I, transfer?: readonly Transferable[]) => Promise<O>;
  close: () => Promise<void>;
  size: number;
}

/**
 * `workers` threads of one built worker file, each serving one task at a time (serveTasks). Null
 * when the built worker is missing (running from sources): the caller then works on the main
 * thread, with the same result.
 */
export function openTaskPool<I, O>(file: string, workerData: unknown, workers: number, what: string): TaskPool<I, O> | null {
  if (!existsSync(file)) return null;
  const pool = Array.from({ length: workers }, () => new Worker(file, { workerData }));
  const idle = [...pool];
  const waiting = new Map<number, { resolve: (o: O) => void; reject: (e: Error) => void; worker: Worker }>();
  let closing = false;
  let next = 0;
  for (const w of pool) {
    w.on('message', (m: { id: number; output?: O; error?: WorkerError }) => {
      const job = waiting.get(m.id)!;
      waiting.delete(m.id);
      idle.push(w);
      if (m.error) job.reject(errorFromWorker(m.error));
      else job.resolve(m.output!);
    });
    const fail = (err: Error): void => {
      for (const [id, job] of waiting) {
        if (job.worker !== w) continue;
        waiting.delete(id);
        job.reject(err);
      }
    };
    w.on('error', fail);
    // A thread that ends while it works (killed by the runtime, out of memory) must fail the stage, not hang it.
    w.on('exit', (code) => {
      if (!closing) fail(threadExited(what, code));
    });
  }
  const run = (input: I, transfer: readonly Transferable[] = []): Promise<O> =>
    new Promise((resolve, reject) => {
      const w = idle.pop();
      if (!w) return reject(new Error(`${what}: more tasks sent than worker threads (internal)`));
      const id = next++;
      waiting.set(id, { resolve, reject, worker: w });
      w.postMessage({ id, input }, [...transfer]);
    });
  const close = async (): Promise<void> => {
    closing = true;
    await Promise.all(pool.map((w) => w.terminate()));
  };
  return { run, close, size: workers };
}

/** The worker side of a task pool: each task's output goes back with its buffers moved, not copied. */
export function serveTasks<I, O>(handle: (input: I) => Promise<{ output: O; transfer: readonly Transferable[] }>): void {
  const port = parentPort!;
  port.on('message', (msg: { id: number; input: I }) => {
    handle(msg.input).then(
      (r) => port.postMessage({ id: msg.id, output: r.output }, [...r.transfer]),
      (err: Error) => port.postMessage({ id: msg.id, error: postableError(err) }),
    );
  });
}

/**
 * Runs `fn` over `items` with at most `concurrency` running: an item is taken (read) only when a
 * slot is free, so at most `concurrency` are in memory. A failure surfaces at the next wait.
 */
export async function runConcurrent<T>(items: AsyncIterable<T>, concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  let index = 0;
  for await (const item of items) {
    const job = fn(item, index++);
    running.add(job);
    job.then(
      () => running.delete(job),
      () => undefined,
    );
    while (running.size >= concurrency) await Promise.race(running);
  }
  await Promise.all(running);
}
