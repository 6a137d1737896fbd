import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StageCounters } from '../stages/runner.js';
import type { FileStats } from '../sources/read.js';
import type { RunStore } from '../store/run-store.js';
import type { Logger } from '../util/log.js';

/** Hidden folder inside the output folder where an unfinished run keeps its store and checkpoints. */
export const WORK_DIR = '.winnow-work';

export interface BarrierDone {
  name: string;
  counters: StageCounters;
  manifest?: object;
}

/** What a run has finished so far; rewritten atomically at every checkpoint. */
export interface Progress {
  /** Hash of the config, the inputs' fingerprints and winnow's version: a resume needs the same. */
  key: string;
  run_id: string;
  started_at: string;
  phase: 'stream' | 'barriers';
  /** Set when the streaming phase ended: its counts (per stage) and the files read. */
  stream: { counters: StageCounters[]; fileStats: FileStats[]; rows: number } | null;
  barriers: BarrierDone[];
  /** The store copy taken after the last finished phase, restored before resuming. */
  snapshot: string | null;
  phases: Record<string, number>;
  /** How many times this run was started (1 = never interrupted). */
  attempts: number;
}

/**
 * The resumable part of a run. The streaming phase checkpoints inside the store (rows below a uid);
 * each barrier stage ends with a copy of the store (after a DuckDB CHECKPOINT, so the file alone is
 * complete) and a progress file naming it. A run killed at any point restarts from the last
 * snapshot or stream checkpoint; a stage that was cut short is rerun on the snapshot it started from.
 */
export class WorkDir {
  private constructor(
    readonly dir: string,
    public progress: Progress,
    readonly resumed: boolean,
  ) {}

  get storePath(): string {
    return path.join(this.dir, 'results.duckdb');
  }

  /** Artifacts of barrier stages (the fitted encoder), moved to <out>/model at the end. */
  get modelDir(): string {
    return path.join(this.dir, 'model');
  }

  private get progressFile(): string {
    return path.join(this.dir, 'progress.json');
  }

  static async open(outDir: string, key: string, log: Logger): Promise<WorkDir> {
    const dir = path.join(outDir, WORK_DIR);
    const old = await readFile(path.join(dir, 'progress.json'), 'utf8')
      .then((t) => JSON.parse(t) as Progress)
      .catch(() => null);
    const usable = old !== null && old.key === key && (old.phase === 'stream' ? existsSync(path.join(dir, 'results.duckdb')) : old.snapshot !== null && existsSync(path.join(dir, old.snapshot)));
    if (usable) {
      old.attempts += 1;
      const work = new WorkDir(dir, old, true);
      await work.save();
      return work;
    }
    if (old !== null || existsSync(dir)) {
      log.info(old !== null && old.key !== key ? `an interrupted run in ${outDir} had another config or other inputs; starting over` : `discarding an unusable interrupted run in ${dir}`);
    }
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const progress: Progress = { key, run_id: randomUUID(), started_at: new Date().toISOString(), phase: 'stream', stream: null, barriers: [], snapshot: null, phases: {}, attempts: 1 };
    return new WorkDir(dir, progress, false);
  }

  /** Writes progress.json through a temporary file and a rename, so it is never half-written. */
  async save(): Promise<void> {
    const tmp = `${this.progressFile}.tmp`;
    await writeFile(tmp, JSON.stringify(this.progress));
    await rename(tmp, this.progressFile);
  }

  /** Puts the last snapshot back in place of the store (whatever a cut-short stage did is dropped). */
  async restoreSnapshot(): Promise<void> {
    if (this.progress.snapshot === null) return;
    await rm(`${this.storePath}.wal`, { force: true });
    await copyFile(path.join(this.dir, this.progress.snapshot), this.storePath);
  }

  /** Snapshot after a finished phase: the store copied under a new name, then progress pointing at it. */
  async snapshot(store: RunStore, label: string): Promise<void> {
    await store.checkpoint();
    const name = `snapshot-${this.progress.barriers.length}-${label}.duckdb`;
    const tmp = path.join(this.dir, `${name}.tmp`);
    await copyFile(this.storePath, tmp);
    await rename(tmp, path.join(this.dir, name));
    const previous = this.progress.snapshot;
    this.progress.snapshot = name;
    await this.save();
    if (previous !== null && previous !== name) await rm(path.join(this.dir, previous), { force: true });
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
