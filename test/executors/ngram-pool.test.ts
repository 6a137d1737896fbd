import { describe, expect, it } from 'vitest';
import type { NgramTask } from '../../src/executors/ngram-worker.js';
import { openTaskPool, runConcurrent } from '../../src/executors/task-pool.js';
import { builtWorker } from '../../src/executors/worker-thread.js';
import { countWindow, NgramBag, type WindowBags } from '../../src/select/importance.js';
import { fixture } from '../helpers.js';

describe("select's n-gram counting on worker threads", () => {
  it('sums to the bags the main thread counts, whichever window comes back first', async () => {
    const texts = ['swh_Latn', 'tir_Ethi', 'kin_Latn'].flatMap((l) =>
      fixture(`sib200/${l}`)
        .slice(0, 300)
        .map((r) => r.text),
    );
    const flags = Uint8Array.from(texts, (_, i) => (i % 3 === 0 ? 1 : 0));
    const want = countWindow(texts, flags, true);
    const pool = openTaskPool<NgramTask, WindowBags>(builtWorker('ngram-worker'), null, 2, 'the test');
    expect(pool).not.toBeNull();
    const all = new NgramBag();
    const flagged = new NgramBag();
    const windows = (async function* () {
      for (let at = 0, k = 1; at < texts.length; at += 50 * k, k++) yield { texts: texts.slice(at, at + 50 * k), flags: flags.slice(at, at + 50 * k), all: true };
    })();
    try {
      await runConcurrent(windows, pool!.size, async (task) => {
        const w = await pool!.run(task, [task.flags.buffer]);
        all.merge(w.all!, w.allTexts);
        flagged.merge(w.flagged, w.flaggedTexts);
      });
    } finally {
      await pool!.close();
    }
    expect([all.texts, flagged.texts]).toEqual([texts.length, 300]);
    expect(all.counts).toEqual(want.all);
    expect(flagged.counts).toEqual(want.flagged);
    expect(flagged.counts.reduce((a, b) => a + b, 0)).toBeLessThan(all.counts.reduce((a, b) => a + b, 0));
  });
});
