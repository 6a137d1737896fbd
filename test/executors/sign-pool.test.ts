import { describe, expect, it } from 'vitest';
import { signTexts, type SignParams, type Signed } from '../../src/dedup/sign.js';
import { openTaskPool, runConcurrent } from '../../src/executors/task-pool.js';
import { builtWorker } from '../../src/executors/worker-thread.js';
import { fixture } from '../helpers.js';

const params: SignParams = { numPerm: 128, shingle: 5, seed: 7, bands: 18, rows: 7, key: { stripMarks: true, casefold: true, collapsePunctuation: true }, near: true, hold: true };

describe("dedup's signing on worker threads", () => {
  it('gives the arrays the main thread gives, window by window, whichever thread finishes first', async () => {
    const texts = ['yor_Latn', 'amh_Ethi', 'hau_Latn'].flatMap((l) =>
      fixture(`sib200/${l}`)
        .slice(0, 400)
        .map((r) => r.text),
    );
    const want = signTexts(texts, params);
    expect(want.bands.some((x) => x !== 0)).toBe(true);
    const pool = openTaskPool<string[], Signed>(builtWorker('sign-worker'), params, 2, 'the test');
    expect(pool).not.toBeNull();
    const got: Signed = { keyHash: new BigUint64Array(texts.length), bands: new Uint32Array(texts.length * params.bands), prints: new Uint8Array(texts.length * params.numPerm) };
    // Windows of uneven sizes, so a window's results only land right at their own offset.
    const windows = (async function* () {
      for (let at = 0, k = 1; at < texts.length; at += 97 * k, k++) yield { at, part: texts.slice(at, at + 97 * k) };
    })();
    try {
      await runConcurrent(windows, pool!.size, async ({ at, part }) => {
        const s = await pool!.run(part);
        got.keyHash.set(s.keyHash, at);
        got.bands.set(s.bands, at * params.bands);
        got.prints.set(s.prints, at * params.numPerm);
      });
    } finally {
      await pool!.close();
    }
    expect(got.keyHash).toEqual(want.keyHash);
    expect(got.bands).toEqual(want.bands);
    expect(got.prints).toEqual(want.prints);
  });
});
