import { spawn, spawnSync } from 'node:child_process';
import { statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, tempDir } from '../helpers.js';
import { fixturePipeline, outputDigest } from '../jobs/job-helpers.js';

// Short heartbeat and lease for this file (read when the lock module loads; each test file has its own).
process.env.WINNOW_LOCK_HEARTBEAT_SECONDS = '0.2';
process.env.WINNOW_LOCK_LEASE_SECONDS = '2';
const { acquireLock, LOCK_FILE } = await import('../../src/jobs/lock.js');

const otherHostLock = (dir: string, ageSeconds: number): string => {
  const file = path.join(dir, LOCK_FILE);
  writeFileSync(file, JSON.stringify({ pid: 12345, host: 'node-elsewhere', proc_start: null, started_at: '2026-01-01T00:00:00Z', command: 'winnow run (on another node)' }));
  const t = new Date(Date.now() - ageSeconds * 1000);
  utimesSync(file, t, t);
  return file;
};

describe('locks across hosts: a lease kept alive by a heartbeat', () => {
  it('a lock from another host is honoured while its heartbeat is fresh and taken over once the lease expired', async () => {
    const dir = tempDir('winnow-lease-');
    otherHostLock(dir, 0);
    await expect(acquireLock(dir, 'test')).rejects.toThrow(/locked by another winnow run .*on node-elsewhere.*expires 2 s after its last heartbeat/);
    otherHostLock(dir, 5);
    const lock = await acquireLock(dir, 'test');
    expect(lock.tookOverFrom?.host).toBe('node-elsewhere');
    // The holder's heartbeat keeps the file fresh (a thread of its own touches it every 0.2 s here).
    const file = path.join(dir, LOCK_FILE);
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    await new Promise((r) => setTimeout(r, 700));
    expect(Date.now() - statSync(file).mtimeMs).toBeLessThan(1000);
    await lock.release();
  });

  const root = process.getuid?.() === 0 && spawnSync('unshare', ['-u', 'true']).status === 0;
  it.skipIf(!root)(
    'a run killed on host A resumes on host B once the lease has expired (unshare -u gives each its own hostname)',
    async () => {
      const dir = tempDir('winnow-lease-');
      const yaml = fixturePipeline(dir);
      const onHost = (host: string, out: string): { code: Promise<number | null>; stderr: () => string; kill: () => void; started: Promise<void> } => {
        const child = spawn('unshare', ['-u', 'sh', '-c', `hostname ${host} && exec "$0" "$@"`, process.execPath, CLI, 'run', yaml, '--out', out], {
          // A 6 s lease: long enough for the refusal below, short enough for the test.
          env: { ...process.env, WINNOW_LOG_FORMAT: 'json', WINNOW_LOCK_LEASE_SECONDS: '6', WINNOW_LOCK_HEARTBEAT_SECONDS: '0.5' },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        let resolveStarted: () => void = () => undefined;
        const started = new Promise<void>((r) => (resolveStarted = r));
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('"phase":"dedup"')) resolveStarted();
        });
        return { code: new Promise((r) => child.on('exit', (c) => r(c))), stderr: () => err, kill: () => child.kill('SIGKILL'), started };
      };
      const reference = path.join(dir, 'reference');
      expect(await onHost('node-a', reference).code).toBe(0);
      const out = path.join(dir, 'out');
      const a = onHost('node-a', out);
      await a.started;
      a.kill();
      await a.code;
      const killedAt = Date.now();
      // Right away node-b is refused: node-a's lease may still be alive.
      const early = onHost('node-b', out);
      expect(await early.code).toBe(75);
      await new Promise((r) => setTimeout(r, Math.max(0, killedAt + 6500 - Date.now())));
      const b = onHost('node-b', out);
      expect(await b.code, b.stderr()).toBe(0);
      expect(b.stderr()).toContain('took over the lock of a run that is no longer alive (pid');
      expect(b.stderr()).toContain('on node-a');
      expect(b.stderr()).toMatch(/resuming run/);
      expect(await outputDigest(out)).toEqual(await outputDigest(reference));
    },
    240_000,
  );
});
