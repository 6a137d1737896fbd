import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { queryStore, tempDir } from '../helpers.js';
import { outputDigest, startCli } from '../jobs/job-helpers.js';
import { day1, day2, pipeline, step } from '../jobs/incremental-helpers.js';

// Slow (five incremental runs, one killed): in the system suite (npm run test:system).
describe('incremental runs over a growing folder (--state), killed', () => {
  it('a killed incremental run is finished by the next one, with the same result as an uninterrupted one', async () => {
    const dir = tempDir('winnow-incr-kill-');
    const lake = path.join(dir, 'lake');
    const yaml = pipeline(dir);
    day1(lake);
    const a = path.join(dir, 'state-a');
    const b = path.join(dir, 'state-b');
    await step(yaml, a);
    await step(yaml, b);
    day2(lake);
    const clean = await step(yaml, a);

    const killed = startCli(['run', yaml, '--state', b]);
    void killed.waitFor((e) => e.event === 'stage_start' && e.stage === 'embed').then(() => killed.kill());
    expect(await killed.code).not.toBe(0);
    // While the first is dead but its lock remains, a run is not refused: the dead holder's lock is taken over.
    const resumed = await step(yaml, b);
    expect(resumed.state).toMatchObject({ seq: 2, resumed_pending: true, superseded_rows: 300 });
    expect(await outputDigest(resumed.state.out_dir!)).toEqual(await outputDigest(clean.state.out_dir!));
    const ledger = async (state: string): Promise<unknown> =>
      queryStore(path.join(state, 'state.duckdb'), `SELECT run_seq, uid, id, source, file, "row", status, reason, superseded_by FROM ledger ORDER BY run_seq, uid`);
    expect(await ledger(b)).toEqual(await ledger(a));
  }, 180_000);
});
