import type { LoadedPipeline } from '../config/load.js';
import type { MemoryPlan } from '../core/memory.js';
import type { WorkDir } from '../jobs/work-dir.js';
import { REASONS } from '../core/reasons.js';
import type { BarrierStage } from '../stages/barrier.js';
import { BARRIER_STAGES } from '../stages/registry.js';
import type { StageCounters } from '../stages/runner.js';
import { storeObjects } from '../store/catalog.js';
import type { RunStore } from '../store/run-store.js';
import type { Logger } from '../util/log.js';
import type { BarrierManifests } from './manifest.js';
import type { PhaseClock } from './phase-clock.js';
import type { RunRole } from './plan.js';

/**
 * The barrier stages in order, each over the whole run store, a snapshot after each: a stage done in
 * an earlier attempt is not run again (its counters and manifest come from the progress file).
 * Returns every stage's counters (streaming ones first) and what each wants in the manifest.
 */
export async function runBarriers(a: {
  store: RunStore;
  loaded: LoadedPipeline;
  work: WorkDir;
  log: Logger;
  role: RunRole;
  clock: PhaseClock;
  memory: MemoryPlan;
  workers: number | 'auto';
}): Promise<{ counters: StageCounters[]; manifest: BarrierManifests }> {
  const { store, loaded, work, log, role, clock, memory, workers } = a;
  const progress = work.progress;
  const counters: StageCounters[] = [...progress.stream!.counters];
  const manifest: BarrierManifests = {};
  for (const stage of BARRIER_STAGES.filter((b) => b.enabled(loaded.config) && (role !== 'shard' || b.perShard))) {
    let done = progress.barriers.find((b) => b.name === stage.name);
    if (!done) {
      log.event('stage_start', { stage: stage.name });
      const before = await storeObjects(store.conn);
      const result = await stage.run({ store, config: loaded.config, baseDir: loaded.baseDir, artifactDir: work.modelDir, log, role, memory, workers });
      checkWrites(stage, before, await storeObjects(store.conn), log);
      done = { name: stage.name, counters: result.counters, manifest: result.manifest };
      progress.barriers.push(done);
      clock.done(stage.name);
      progress.phases = clock.phases;
      await work.snapshot(store, stage.name);
      clock.done('checkpoint');
    }
    counters.push(done.counters);
    if (done.manifest) manifest[stage.name] = done.manifest;
  }
  await checkReasons(store, log);
  return { counters, manifest };
}

/**
 * A stage that added a table, view or samples column it does not declare broke the store's
 * contract: the tests (WINNOW_STRICT_STORE=1) fail on it; a user's run keeps its results and warns.
 */
export function checkWrites(stage: BarrierStage<object>, before: Set<string>, after: Set<string>, log: Logger): void {
  const undeclared = [...after].filter((o) => !before.has(o) && !stage.writes.includes(o));
  if (undeclared.length > 0) contractBroken(`barrier stage ${stage.name} added ${undeclared.join(', ')} to the run store without declaring them in its writes`, log);
}

/** Every rejection reason in samples is a registered one (src/core/reasons.ts), which the docs and report list. */
async function checkReasons(store: RunStore, log: Logger): Promise<void> {
  const found = (await store.conn.runAndReadAll('SELECT DISTINCT reason FROM samples WHERE reason IS NOT NULL ORDER BY 1')).getRows().map((r) => String(r[0]));
  const unknown = found.filter((r) => !Object.hasOwn(REASONS, r));
  if (unknown.length > 0) contractBroken(`rows were rejected with unregistered reasons ${unknown.join(', ')}`, log);
}

function contractBroken(message: string, log: Logger): void {
  if (process.env.WINNOW_STRICT_STORE === '1') throw new Error(`${message} (please report it)`);
  log.warn(`${message} (please report it)`);
}
