import { readFileSync } from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import { ConfigError, OutOfMemoryError } from './errors.js';

/** A size as the config writes it: "512MB", "4GB", "1.5GiB". */
export const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;

const UNITS: Record<string, number> = { kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

export function parseSize(text: string, where: string): number {
  const m = SIZE_PATTERN.exec(text.trim());
  if (!m) throw new ConfigError(`${where}: "${text}" is not a size; write it like "4GB" or "512MB"`);
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

export function formatSize(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)}GB` : `${Math.max(1, Math.round(bytes / 1e6))}MB`;
}

/** The memory this process may use: the machine's, or the container's cgroup limit when lower. */
export function machineMemory(): number {
  const total = os.totalmem();
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const limit = Number(readFileSync(file, 'utf8').trim());
      if (Number.isFinite(limit) && limit > 0 && limit < total) return limit;
    } catch {
      // not in a cgroup with a limit (or "max"): the machine's memory
    }
  }
  return total;
}

/** `execution.memory: auto` takes this share of the machine's memory, leaving the rest to the system. */
export const AUTO_SHARE = 0.6;

/** DuckDB's share of the budget when `store.memory_limit` is not given; the stages' arrays get the rest. */
export const DUCKDB_SHARE = 0.5;

export interface MemoryPlan {
  /** The whole run's budget, bytes. */
  budget: number;
  /** DuckDB's buffer-pool cap (spills to disk beyond it), as DuckDB reads it. */
  duckdb: string;
  /** Where the budget came from, for messages that name the knob to turn. */
  from: string;
  /** DuckDB's cap was set by store.memory_limit, which the budget does not change. */
  duckdbFixed: boolean;
}

/**
 * The run's memory budget: `--memory` / WINNOW_MEMORY over `execution.memory` (`auto`: a share of
 * the machine's); DuckDB's cap is `store.memory_limit` when given, else half the budget.
 */
export function memoryPlan(configured: string, storeLimit: string | undefined, override?: string): MemoryPlan {
  const env = process.env.WINNOW_MEMORY;
  const [text, from] = override ? [override, '--memory'] : env ? [env, 'WINNOW_MEMORY'] : [configured, 'execution.memory'];
  const machine = text === 'auto' ? machineMemory() : 0;
  const budget = text === 'auto' ? Math.floor(machine * AUTO_SHARE) : parseSize(text, from);
  const duckdb = storeLimit ?? formatSize(Math.max(16e6, budget * DUCKDB_SHARE));
  return { budget, duckdb, duckdbFixed: storeLimit !== undefined, from: text === 'auto' ? `${from}: auto (${Math.round(AUTO_SHARE * 100)}% of ${formatSize(machine)})` : `${from}: ${text}` };
}

/**
 * Checked before a stage that holds O(rows) arrays in this process starts, so a run that cannot fit
 * says so at once instead of after the stage's minutes: what it needs, what the budget leaves beside
 * DuckDB's cap, and the knob to turn. The estimate is the stage's own (its arrays per row).
 */
export function checkFits(plan: MemoryPlan, stage: string, need: number, what: string, alternative?: string): void {
  const duckdb = parseSize(plan.duckdb, 'DuckDB cap');
  const left = besideDuckdb(plan);
  if (need <= left) return;
  const knob = plan.duckdbFixed ? 'lower store.memory_limit or give the run more with --memory' : `give the run more with --memory ${formatSize(Math.ceil((need + duckdb) / 1e9) * 1e9 * 1.25)}`;
  throw new OutOfMemoryError(
    `stage ${stage} needs about ${formatSize(need)} for ${what}, but the run's budget of ${formatSize(plan.budget)} (${plan.from}) leaves ${formatSize(Math.max(0, left))} beside DuckDB's cap of ${plan.duckdb}. ` +
      `To go on, ${knob} (or WINNOW_MEMORY, or execution.memory in the config) and run the same command again: it resumes from its last checkpoint` +
      (alternative ? `; or ${alternative}` : ''),
  );
}

/**
 * How many holdings of `need` bytes fit in what the budget leaves beside DuckDB's cap and what this
 * process's JavaScript already holds (its heap and buffers: DuckDB's memory is not among them). At
 * least 1: checkFits refuses less.
 */
export function timesFits(plan: MemoryPlan, need: number): number {
  const { heapTotal, external } = process.memoryUsage();
  return Math.max(1, Math.floor((besideDuckdb(plan) - heapTotal - external) / Math.max(1, need)));
}

/** What the run's budget leaves beside DuckDB's cap. */
function besideDuckdb(plan: MemoryPlan): number {
  return plan.budget - parseSize(plan.duckdb, 'DuckDB cap');
}

export function isOutOfMemory(err: unknown): boolean {
  return err instanceof Error && !(err instanceof OutOfMemoryError) && /Out of Memory Error|could not allocate|failed to allocate|std::bad_alloc|Array buffer allocation failed/i.test(err.message);
}

/** The error a run that ran out of memory ends with: what the budget was, and the knob to turn. */
export function outOfMemory(err: unknown, plan: MemoryPlan): OutOfMemoryError {
  const first = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
  const knob = plan.duckdbFixed
    ? `raise store.memory_limit in the config (or remove it, and DuckDB gets half of --memory)`
    : `give the run more with --memory 8GB (or WINNOW_MEMORY, or execution.memory in the config)`;
  return new OutOfMemoryError(
    `out of memory under the run's budget of ${formatSize(plan.budget)} (${plan.from}; DuckDB's cap ${plan.duckdb}${plan.duckdbFixed ? ', from store.memory_limit' : ''}): ${first}. ` +
      `To go on, ${knob} and run the same command again: it resumes from its last checkpoint`,
  );
}

/** How much a JavaScript heap may grow past what survived its last major collection, in percent. */
export const HEAP_GROWTH_PERCENT = 30;

/**
 * With memory to spare V8 lets a heap grow to several times what survived its last major
 * collection before collecting again. The streaming phase's batches live just long enough (queued
 * to the workers and back) to be promoted, so the main thread's and the workers' heaps floated
 * between 1.0 and 1.6 GB of RSS at 1M rows while each held about 100 MB. Bounded growth keeps them
 * near what they hold, at no measured cost in speed (BENCHMARKS.md, e2e). V8's flags are the
 * process's: this holds for its worker threads too.
 */
export function limitHeapGrowth(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWTH_PERCENT}`);
}
