import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validatePipeline } from '../../src/config/load.js';
import { workerCount } from '../../src/executors/local-pool.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { silentLogger } from '../../src/util/log.js';
import { fixture, queryStore, tempDir, writeJsonl } from '../helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('local executor: streaming stages on worker threads', () => {
  it('gives identical samples, counts and outputs with 1 and 2 workers', async () => {
    const dir = tempDir();
    dirs.push(dir);
    // Several languages and registers, so every streaming stage has work: langid, quality cleaning and rejections.
    const rows = [...fixture('sib200/yor_Latn'), ...fixture('afrisenti/kin').slice(0, 2000), ...fixture('ud-text/pcm'), ...fixture('tatoeba-laser/khm-eng')];
    writeJsonl(path.join(dir, 'in.jsonl'), rows);
    const config = validatePipeline(
      {
        name: 'workers',
        sources: [{ name: 's', path: 'in.jsonl', columns: { id: 'id' } }],
        stages: { embed: { enabled: false }, select: { enabled: false } },
        limits: { batch_size: 256 },
      },
      'test',
    );
    const digest = async (workers: number) => {
      const out = path.join(dir, `out-${workers}`);
      const summary = await runPipeline({ config, baseDir: dir, origin: 'test' }, { outDir: out, log: silentLogger, workers });
      const [h] = await queryStore<{ h: string; n: number }>(
        path.join(out, 'results.duckdb'),
        `SELECT md5(string_agg(concat_ws('|', uid, id, text, status, reason, reason_detail, lang_pred, lang_conf, lang_detail, quality::VARCHAR, text_original, tokens), chr(10) ORDER BY uid)) AS h, count(*)::INT AS n FROM samples`,
      );
      const parquet = createHash('sha256')
        .update(readFileSync(path.join(out, 'selection.parquet')))
        .digest('hex');
      const counts = summary.stages.map((s) => ({ stage: s.stage, in: s.in, out: s.out, rejected: s.rejected }));
      return { h, parquet, counts, selected: summary.counts.selected };
    };
    const one = await digest(1);
    expect(one.h!.n).toBe(rows.length);
    expect(one.counts.find((c) => c.stage === 'langid')!.in).toBeGreaterThan(0);
    // Token counting is a streaming stage, so it runs on the workers too (its counts below are equal for 1 and 2).
    expect(one.counts.find((c) => c.stage === 'tokens')!.in).toBeGreaterThan(0);
    const two = await digest(2);
    expect(two.h).toEqual(one.h);
    expect(two.counts).toEqual(one.counts);
    expect(two.selected).toBe(one.selected);
    expect(two.parquet).toBe(one.parquet);
  });

  it('auto uses every core for large inputs and fewer for small ones; a number is taken as given', () => {
    expect(workerCount('auto', 2 ** 40)).toBe(availableParallelism());
    expect(workerCount('auto', 1000)).toBe(1);
    expect(workerCount(3, 1000)).toBe(3);
  });
});
