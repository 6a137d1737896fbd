import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { link, mkdir, readdir, open, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { LockedError } from '../core/errors.js';

export const LOCK_FILE = '.winnow.lock';

/** What a lock file records about its holder, enough to tell a live holder from a dead one. */
export interface LockInfo {
  pid: number;
  host: string;
  /** Kernel start time of the holder (Linux /proc), so a recycled pid is not mistaken for the holder. */
  proc_start: string | null;
  started_at: string;
  command: string;
}

export interface Lock {
  file: string;
  info: LockInfo;
  /** Taken over from a dead holder (its info), or null. */
  tookOverFrom: LockInfo | null;
  release(): Promise<void>;
}

/** A takeover left behind by a process killed in the middle of it is cleared after this long. */
const TAKEOVER_STALE_MS = 30_000;

/**
 * A live holder touches its lock file every heartbeat; a lock from another host whose file has not
 * been touched for a lease is a dead run's (its pid cannot be checked from here: a pod killed on one
 * node and rescheduled on another, a job requeued on another machine). The heartbeat runs on a
 * thread of its own, so a long computation on the main thread cannot starve it.
 */
const HEARTBEAT_S = Number(process.env.WINNOW_LOCK_HEARTBEAT_SECONDS ?? 30);
const LEASE_S = Number(process.env.WINNOW_LOCK_LEASE_SECONDS ?? 600);

function procStart(pid: number): string | null {
  try {
    // Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces, so count from its ')'.
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(info: Pick<LockInfo, 'pid' | 'proc_start'>): boolean {
  try {
    process.kill(info.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  // The pid exists; on Linux make sure it is still the same process.
  const now = procStart(info.pid);
  return info.proc_start === null || now === null || now === info.proc_start;
}

async function readInfo(file: string): Promise<LockInfo | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    return JSON.parse(text) as LockInfo;
  } catch {
    return null;
  }
}

/**
 * Creates the lock with its content in one step: the content goes to a private file first, then a
 * hard link gives it the lock's name (link fails if the name exists), so a lock is never seen empty.
 */
async function create(file: string, info: LockInfo): Promise<boolean> {
  const tmp = `${file}.${info.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, JSON.stringify(info) + '\n');
  try {
    await link(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Takes the lock of a state or output folder: an exclusive create of `.winnow.lock`. A second run
 * fails at once with exit code 75. A lock whose holder is dead (same host, pid gone or recycled) is
 * taken over; concurrent takeovers are serialized by a second exclusive file, and the stale lock is
 * re-read under it so a lock just taken by a live run is never removed.
 */
export async function acquireLock(dir: string, command: string): Promise<Lock> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), proc_start: procStart(process.pid), started_at: new Date().toISOString(), command };
  let tookOverFrom: LockInfo | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await create(file, info)) {
      await removeDeadTemps(dir);
      return makeLock(file, info, tookOverFrom);
    }
    const holder = await readInfo(file);
    if (!existsSync(file)) continue; // released between our attempt and the read
    // An unreadable lock (edited or damaged by hand) has no holder to wait for: it is taken over.
    if (holder !== null && (holder.host === info.host ? alive(holder) : await leaseLive(file))) {
      throw new LockedError(
        `${dir} is locked by another winnow run (pid ${holder.pid} on ${holder.host}, started ${holder.started_at}: ${holder.command}). ` +
          `Wait for it to finish${holder.host !== info.host ? ` (it ran on another machine: its lock expires ${LEASE_S} s after its last heartbeat)` : ''}; if you are sure it is dead, delete ${file}.`,
      );
    }
    const taken = await takeOver(file, holder);
    if (taken) tookOverFrom = holder ?? ({ pid: -1, host: '?', proc_start: null, started_at: '?', command: '(unreadable lock file)' } as LockInfo);
  }
  throw new LockedError(`${dir}: could not take the lock after several attempts (another run keeps taking it); try again.`);
}

/** Content files of lock attempts whose process was killed before it could remove them. */
async function removeDeadTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const m = /^\.winnow\.lock\.(\d+)-[0-9a-f]+$/.exec(name);
    if (m && !alive({ pid: Number(m[1]), proc_start: null })) await rm(path.join(dir, name), { force: true });
  }
}

async function takeOver(file: string, seen: LockInfo | null): Promise<boolean> {
  const guard = `${file}.takeover`;
  const gst = await stat(guard).catch(() => null);
  if (gst && Date.now() - gst.mtimeMs > TAKEOVER_STALE_MS) await rm(guard, { force: true });
  const fh = await open(guard, 'wx').catch(() => null);
  if (fh === null) return false;
  try {
    await fh.close();
    const now = await readInfo(file);
    // Only the lock we judged dead is removed; if it changed meanwhile, another run owns it now.
    if (JSON.stringify(now) === JSON.stringify(seen)) await unlink(file).catch(() => undefined);
    return true;
  } finally {
    await rm(guard, { force: true });
  }
}

/** The warning a run gives when it took over a dead run's lock. */
export function takeoverMessage(from: LockInfo): string {
  return `took over the lock of a run that is no longer alive (pid ${from.pid} on ${from.host}, started ${from.started_at})`;
}

/** Whether a lock file was touched within the lease (a holder on another host is alive). */
async function leaseLive(file: string): Promise<boolean> {
  const st = await stat(file).catch(() => null);
  return st !== null && Date.now() - st.mtimeMs < LEASE_S * 1000;
}

/** A thread that touches the lock file every HEARTBEAT_S seconds until terminated. */
function startHeartbeat(file: string): Worker | null {
  if (!(HEARTBEAT_S > 0)) return null;
  const code = `const { utimesSync } = require('node:fs'); const { workerData } = require('node:worker_threads');
    setInterval(() => { try { const now = new Date(); utimesSync(workerData.file, now, now); } catch {} }, workerData.ms);`;
  const worker = new Worker(code, { eval: true, workerData: { file, ms: HEARTBEAT_S * 1000 } });
  worker.unref();
  return worker;
}

/** Locks this process holds, so a SIGTERM or SIGINT can release them before it exits. */
const held = new Map<string, LockInfo>();

/** Removes every lock this process holds (and still owns), synchronously: for signal handlers. */
export function releaseHeldLocksSync(): void {
  for (const [file, info] of held) {
    try {
      const now = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
      if (now.pid === info.pid && now.started_at === info.started_at) unlinkSync(file);
    } catch {
      // gone already, or unreadable: not ours to remove
    }
  }
  held.clear();
}

function makeLock(file: string, info: LockInfo, tookOverFrom: LockInfo | null): Lock {
  let released = false;
  held.set(file, info);
  const heartbeat = startHeartbeat(file);
  return {
    file,
    info,
    tookOverFrom,
    async release() {
      if (released) return;
      released = true;
      held.delete(file);
      await heartbeat?.terminate();
      const now = await readInfo(file);
      if (now?.pid === info.pid && now.started_at === info.started_at) await unlink(file).catch(() => undefined);
    },
  };
}
