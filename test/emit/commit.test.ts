import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitOutputs, finishCommit, JOURNAL, type CommitPlan, type CommitSteps } from '../../src/emit/commit.js';
import { removeStalePartials } from '../../src/emit/atomic.js';
import { tempDir } from '../helpers.js';

const FILES = ['selection.arrow', 'selection.parquet', 'results.duckdb', 'report.html', 'manifest.json'];

/** An output folder holding a previous complete run ("old") and a new run's completed temporaries ("new"). */
function setUp(dir: string): CommitPlan {
  mkdirSync(path.join(dir, 'model'), { recursive: true });
  for (const f of FILES) writeFileSync(path.join(dir, f), `old ${f}`);
  writeFileSync(path.join(dir, 'model', 'probe.onnx'), 'old model');
  const work = path.join(dir, '.winnow-work');
  mkdirSync(path.join(work, 'model'), { recursive: true });
  writeFileSync(path.join(work, 'model', 'probe.onnx'), 'new model');
  const moves: CommitPlan['moves'] = [{ from: path.join(work, 'model'), to: path.join(dir, 'model'), dir: true }];
  for (const f of FILES) {
    const from = f === 'results.duckdb' ? path.join(work, f) : path.join(dir, `.${f}.partial-1-abcdef`);
    writeFileSync(from, `new ${f}`);
    moves.push({ from, to: path.join(dir, f) });
  }
  return { moves, cleanup: [work] };
}

/** Which run each output belongs to, as a reader sees it. */
function state(dir: string): { manifest: string | null; files: string[] } {
  const read = (f: string): string | null => (existsSync(path.join(dir, f)) ? readFileSync(path.join(dir, f), 'utf8').split(' ')[0]! : null);
  return { manifest: read('manifest.json'), files: [...FILES.filter((f) => f !== 'manifest.json'), 'model/probe.onnx'].map((f) => read(f) ?? 'missing') };
}

/** File-system steps that stop (as a SIGKILL would) after `n` of them. */
function killedAfter(n: number): CommitSteps {
  let done = 0;
  const step = async <T>(f: () => Promise<T>): Promise<T> => {
    if (done++ >= n) throw new Error('killed');
    return f();
  };
  return { rename: (a, b) => step(() => rename(a, b)), remove: (f) => step(() => rm(f, { recursive: true, force: true })) };
}

describe('outputs are committed as a whole', () => {
  it('a kill at every step leaves the old complete set, or a folder marked mid-commit that the next command completes to the new set', async () => {
    let steps = 0;
    for (let n = 0; ; n++) {
      const dir = tempDir();
      const plan = setUp(dir);
      const finished = await commitOutputs(dir, plan, killedAfter(n)).then(
        () => true,
        () => false,
      );
      const seen = state(dir);
      // What a reader may trust: with manifest.json present, every file is of the manifest's run.
      if (seen.manifest !== null) expect(seen.files.every((f) => f === seen.manifest)).toBe(true);
      if (finished) {
        expect(seen).toEqual({ manifest: 'new', files: Array(FILES.length).fill('new') });
        steps = n;
        break;
      }
      // The next command (a new process) finishes the commit before it cleans temporaries.
      const pending = existsSync(path.join(dir, JOURNAL));
      expect(await finishCommit(dir)).toBe(pending);
      await removeStalePartials(dir);
      const after = state(dir);
      expect(after).toEqual(pending ? { manifest: 'new', files: Array(FILES.length).fill('new') } : { manifest: 'old', files: Array(FILES.length).fill('old') });
      expect(readdirSync(dir).sort()).toEqual(pending ? [...FILES, 'model'].sort() : [...FILES, '.winnow-work', 'model'].sort());
    }
    // Every step was a kill point: removing the old manifest, 2 renames for the model folder, 5 files, the work folder.
    expect(steps).toBe(1 + 2 + FILES.length + 1);
  });

  it('with no journal there is nothing to finish', async () => {
    expect(await finishCommit(tempDir())).toBe(false);
  });
});
