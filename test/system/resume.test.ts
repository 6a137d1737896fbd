import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { rng } from '../../src/math/random.js';
import { checkFinalFilesWhole, fixturePipeline, outputDigest, startCli } from '../jobs/job-helpers.js';

const runId = (out: string): string => (JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { run_id: string }).run_id;

interface KillAnchor {
  name: string;
  match: (e: Record<string, unknown>) => boolean;
  /** How long the reference run spent from this event to the next anchor (or its end). */
  spanMs: number;
}

/** The events a kill can be placed after: the run's start (the streaming phase) and each barrier stage's start. */
function killAnchors(events: Record<string, unknown>[]): KillAnchor[] {
  const at = (e: Record<string, unknown>): number => Date.parse(String(e.ts));
  const starts = events.filter((e) => e.event === 'run_start' || e.event === 'stage_start');
  const end = at(events.find((e) => e.event === 'run_done')!);
  return starts.map((e, i) => {
    const name = e.event === 'run_start' ? 'stream' : String(e.stage);
    const match = (x: Record<string, unknown>): boolean => x.event === e.event && x.stage === e.stage;
    return { name, match, spanMs: (i + 1 < starts.length ? at(starts[i + 1]!) : end) - at(e) };
  });
}

describe('resume after SIGKILL', () => {
  const dir = tempDir('winnow-resume-');
  const yaml = fixturePipeline(dir);
  let baseline: Record<string, unknown>;
  let baselineEvents: Record<string, unknown>[] = [];

  it('an uninterrupted run gives the reference outputs', async () => {
    const child = startCli(['run', yaml, '--out', path.join(dir, 'base')]);
    expect(await child.code).toBe(0);
    baselineEvents = child.events;
    baseline = await outputDigest(path.join(dir, 'base'));
    expect((baseline.counts as { reconciled: boolean }).reconciled).toBe(true);
    // The stages that the kills are meant to interrupt all ran.
    const phases = child.events.filter((e) => e.event === 'phase_done').map((e) => e.phase);
    expect(phases).toEqual(expect.arrayContaining(['stream', 'dedup', 'embed', 'select', 'budget', 'emit_arrow', 'emit_parquet', 'report']));
  }, 120_000);

  // 8 kills keep the system suite short; WINNOW_TEST_KILLS=20 (or more) runs the long version.
  const kills = Number(process.env.WINNOW_TEST_KILLS ?? 8);
  it(`${kills} seeded SIGKILLs at random points, each followed by a restart, give identical outputs`, async () => {
    // Each kill is placed inside a phase (after its start event, at a seeded fraction of the time the phase took in
    // the reference run), not at a wall time since spawn: how long each phase takes changes with the code and the
    // machine, and kills timed from the start would crowd into whichever phase is slowest today.
    const rand = rng(20261126);
    const anchors = killAnchors(baselineEvents);
    const order = anchors
      .map((a) => ({ a, key: rand() }))
      .sort((x, y) => x.key - y.key)
      .map((x) => x.a);
    const plan = Array.from({ length: kills }, (_, t) => ({ ...order[t % order.length]!, delayMs: 0 }));
    for (const p of plan) p.delayMs = rand() * 0.9 * p.spanMs;
    const killedIn: string[] = [];
    const trial = async (t: number): Promise<void> => {
      const out = path.join(dir, `trial-${t}`);
      const { match, delayMs } = plan[t]!;
      const first = startCli(['run', yaml, '--out', out]);
      let timer: NodeJS.Timeout | undefined;
      void first.waitFor(match).then(() => (timer = setTimeout(() => first.kill(), delayMs)));
      const code = await first.code;
      clearTimeout(timer);
      const last = first.events.filter((e) => e.event === 'phase_done' || e.event === 'stage_start').at(-1);
      killedIn.push(code === 0 ? 'finished' : String(last?.stage ?? last?.phase ?? 'start'));
      // Whatever the kill left under a final name is whole.
      const completed = (await checkFinalFilesWhole(out)).includes('manifest.json');
      const firstRun = first.events.find((e) => e.event === 'run_start')?.run_id;
      const second = startCli(['run', yaml, '--out', out]);
      expect(await second.code, second.stderr()).toBe(0);
      if (!completed && firstRun !== undefined) {
        expect(second.events.some((e) => e.event === 'resume')).toBe(true);
        // The resumed run is the same run, not a new one.
        expect(runId(out)).toBe(firstRun);
      }
      expect(await outputDigest(out), `trial ${t}, killed ${delayMs.toFixed(0)} ms into ${plan[t]!.name}`).toEqual(baseline);
      // Nothing of the interrupted attempt is left: no work folder, no partial output, no lock.
      expect(readdirSync(out).filter((f) => f === '.winnow-work' || f.includes('.partial-') || f === '.winnow.lock')).toEqual([]);
    };
    // Two trials at a time (separate output folders); the kill points do not depend on the pairing.
    for (let t = 0; t < kills; t += 2) await Promise.all([trial(t), ...(t + 1 < kills ? [trial(t + 1)] : [])]);
    // The kills interrupted several phases, not all one (a kill can land a phase late when the machine is busy).
    expect(new Set(killedIn).size, `killed in: ${killedIn.join(', ')}`).toBeGreaterThanOrEqual(Math.min(4, kills));
  }, 600_000);

  it('SIGTERM (a scheduler stopping the job) and SIGINT exit 143/130, release the lock, keep the work folder; the rerun resumes', async () => {
    for (const [sig, expected] of [
      ['SIGTERM', 143],
      ['SIGINT', 130],
    ] as const) {
      const out = path.join(dir, `signal-${sig}`);
      const first = startCli(['run', yaml, '--out', out]);
      await first.waitFor((e) => e.event === 'phase_done' && e.phase === 'dedup');
      first.signal(sig);
      expect(await first.code, sig).toBe(expected);
      expect(first.stderr()).toContain(`stopped by ${sig}`);
      expect(existsSync(path.join(out, '.winnow.lock')), sig).toBe(false);
      expect(existsSync(path.join(out, '.winnow-work')), sig).toBe(true);
      const second = startCli(['run', yaml, '--out', out]);
      expect(await second.code).toBe(0);
      // Resumed (no lock takeover needed), with the uninterrupted run's outputs.
      expect(second.events.some((e) => e.event === 'resume')).toBe(true);
      expect(second.stderr()).not.toContain('took over the lock');
      expect(await outputDigest(out)).toEqual(baseline);
    }
  }, 300_000);

  it('a kill while outputs are being written never leaves a truncated final file', async () => {
    const points = ['record', 'emit_arrow', 'emit_parquet', 'report', 'close_store'];
    let killed = 0;
    const trial = async (point: string): Promise<void> => {
      const out = path.join(dir, `emit-${point}`);
      const first = startCli(['run', yaml, '--out', out]);
      void first.waitFor((e) => e.event === 'phase_done' && e.phase === point).then(() => first.kill());
      const code = await first.code;
      const found = await checkFinalFilesWhole(out);
      if (code !== 0) killed++;
      // Without a manifest (committed last) the run is incomplete, and its work folder waits to be resumed.
      if (!found.includes('manifest.json')) expect(existsSync(path.join(out, '.winnow-work'))).toBe(true);
      // After the last two steps only closing the store and renames remain, which a kill sent on seeing
      // the event may arrive too late for; the earlier ones are followed by more writing.
      if (!['report', 'close_store'].includes(point)) {
        expect(code, `killed after ${point}`).not.toBe(0);
        expect(found).not.toContain('manifest.json');
      }
      const second = startCli(['run', yaml, '--out', out]);
      expect(await second.code, second.stderr()).toBe(0);
      expect(await outputDigest(out)).toEqual(baseline);
    };
    for (let k = 0; k < points.length; k += 2) await Promise.all(points.slice(k, k + 2).map(trial));
    expect(killed).toBeGreaterThanOrEqual(3);
  }, 300_000);
});
