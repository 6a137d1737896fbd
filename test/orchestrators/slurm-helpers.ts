import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CLI, ROOT } from '../helpers.js';

export const SLURM_SCRIPTS = path.join(ROOT, 'pipelines', 'orchestrators');

/**
 * Whether a Slurm cluster answers (the one test/orchestrators/slurm-cluster.sh brings up, or the
 * machine's own); the reason it does not, otherwise.
 */
export function slurmUnavailable(): string | null {
  const conf = process.env.SLURM_CONF;
  if (conf && !existsSync(conf)) return `SLURM_CONF=${conf} does not exist`;
  const r = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return 'sinfo is not installed';
  if (r.status !== 0) return `sinfo failed: ${r.stderr.trim()}`;
  if (!/idle|mix|alloc/.test(r.stdout)) return `no node is up (sinfo: ${r.stdout.trim() || 'nothing'})`;
  return null;
}

export const SKIP_NOTE = 'no Slurm cluster here; as root on Debian run `eval "$(bash test/orchestrators/slurm-cluster.sh up)"`, then `npm run test:system`';

/** What `scontrol show job` says of one job (one array task per record). */
export interface SlurmJob {
  JobId: string;
  ArrayJobId?: string;
  ArrayTaskId?: string;
  JobName: string;
  JobState: string;
  ExitCode: string;
  Restarts: string;
  Reason: string;
}

export function jobs(): SlurmJob[] {
  const text = execFileSync('scontrol', ['-o', 'show', 'job'], { encoding: 'utf8' });
  return text
    .split('\n')
    .filter((l) => l.startsWith('JobId='))
    .map((line) => {
      const rec: Record<string, string> = {};
      for (const m of line.matchAll(/(\w+)=(\S*)/g)) rec[m[1]!] ??= m[2]!;
      return rec as unknown as SlurmJob;
    });
}

/** Jobs of the shipped scripts submitted after `sinceJobId` (job ids grow). */
export const jobsSince = (sinceJobId: number): SlurmJob[] => jobs().filter((j) => Number(j.JobId) > sinceJobId && j.JobName.startsWith('winnow'));

export function lastJobId(): number {
  return Math.max(0, ...jobs().map((j) => Number(j.JobId)));
}

export async function waitFor<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 600_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; queue: ${execFileSync('squeue', { encoding: 'utf8' })}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Waits until no job of the shipped scripts is queued or running. */
export const queueDrained = (timeoutMs?: number): Promise<true> =>
  waitFor(
    'the queue to drain',
    () =>
      execFileSync('squeue', ['-h', '-o', '%j'], { encoding: 'utf8' })
        .split('\n')
        .every((n) => !n.startsWith('winnow')),
    timeoutMs,
  );

/** The settings the tests give the shipped scripts: this checkout's CLI, small jobs, short retry delay. */
export function scriptEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    WINNOW: `${process.execPath} ${CLI}`,
    CPUS_PER_TASK: '1',
    SHARD_MEM: '2G',
    MERGE_MEM: '2G',
    RETRY_DELAY: '3',
    WINNOW_LOG_FORMAT: 'json',
    ...extra,
  };
}

export function slurm(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' });
}
