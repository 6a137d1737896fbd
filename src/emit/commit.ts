import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { commitDir, tempPathFor } from './atomic.js';

/** A run's outputs go into place as one commit: these moves, in order, then these removals. */
export interface CommitPlan {
  /** Completed files or folders (`dir`) and their final paths; the manifest is last. */
  moves: { from: string; to: string; dir?: boolean }[];
  /** Removed once every move is done (the run's work folder). */
  cleanup: string[];
}

export const JOURNAL = '.winnow-commit.json';

/** The file-system steps of a commit, replaceable in tests to stop a commit part way, as a kill would. */
export interface CommitSteps {
  rename(from: string, to: string): Promise<void>;
  remove(file: string): Promise<void>;
}
const FS: CommitSteps = { rename, remove: (f) => rm(f, { recursive: true, force: true }) };

/**
 * Puts a run's outputs in place so that a reader sees the previous complete set or the new one.
 * Renames are atomic one by one but not together, so the plan is written to a journal first, the
 * previous manifest is removed (a folder without manifest.json is mid-commit: trust nothing in it),
 * the files are renamed with the manifest last, and the journal goes. A commit killed part way is
 * finished by `finishCommit`, which every winnow command that opens the folder calls first.
 */
export async function commitOutputs(outDir: string, plan: CommitPlan, steps: CommitSteps = FS): Promise<void> {
  const journal = path.join(outDir, JOURNAL);
  const tmp = tempPathFor(journal);
  await writeFile(tmp, JSON.stringify(plan) + '\n');
  await rename(tmp, journal);
  const manifest = plan.moves.at(-1)!.to;
  await steps.remove(manifest);
  await applyPlan(plan, steps);
  await rm(journal, { force: true });
}

/** Completes a commit a killed run left half done (moves whose source is gone are done). Returns whether there was one. */
export async function finishCommit(outDir: string, steps: CommitSteps = FS): Promise<boolean> {
  const journal = path.join(outDir, JOURNAL);
  let plan: CommitPlan;
  try {
    plan = JSON.parse(await readFile(journal, 'utf8')) as CommitPlan;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    // A journal is written under a temporary name and renamed: a final one is whole, unless edited by hand.
    throw new Error(`${journal} cannot be read (${(err as Error).message}); remove it and run again`, { cause: err });
  }
  await applyPlan(plan, steps);
  await rm(journal, { force: true });
  return true;
}

async function applyPlan(plan: CommitPlan, steps: CommitSteps): Promise<void> {
  for (const m of plan.moves) {
    if (!existsSync(m.from)) continue;
    if (m.dir) await commitDir(m.from, m.to, steps.rename);
    else await steps.rename(m.from, m.to);
  }
  for (const c of plan.cleanup) await steps.remove(c);
}
