import { ExitCode, WinnowError } from './errors.js';

/** The machine, not winnow or the data: a full disk, a read-only or forbidden folder, a busy store. */
export class EnvironmentError extends WinnowError {
  constructor(message: string, exitCode: number = ExitCode.environment) {
    super(message, exitCode);
  }
}

const ERRNO: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'an input/output error from the device',
  EMFILE: 'too many open files (raise ulimit -n)',
  ENFILE: 'too many open files on the system',
};

/**
 * Recognizes failures of the environment in errors thrown by Node's fs or by DuckDB, so they end
 * with a documented exit code and the path involved instead of "internal error": ENOSPC and
 * friends exit 74 (sysexits EX_IOERR); a DuckDB file another process holds (an open `winnow query`
 * on a state store) exits 75, like a held lock (retry later).
 */
export function environmentError(err: unknown): EnvironmentError | null {
  if (!(err instanceof Error)) return null;
  const e = err as NodeJS.ErrnoException;
  if (e.code && ERRNO[e.code]) {
    const where = e.path ? ` ${e.path}` : '';
    return new EnvironmentError(`cannot ${e.syscall ?? 'access'}${where}: ${ERRNO[e.code]} (${e.code}). Free space or fix the permissions, then run the same command again: it resumes`);
  }
  const conflict = /Could not set lock on file "([^"]+)": Conflicting lock is held in (.+?)(?: \(PID (\d+)\))?(?:\. |$)/.exec(err.message);
  if (conflict) {
    return new EnvironmentError(
      `${conflict[1]} is open in another process (${conflict[2]}${conflict[3] ? `, pid ${conflict[3]}` : ''}), which DuckDB does not share with a writer. Close it (a winnow query or a notebook on that store) and run again`,
      ExitCode.locked,
    );
  }
  if (/No space left on device/i.test(err.message)) return new EnvironmentError(`the disk is full: ${err.message.split('\n')[0]}. Free space and run the same command again: it resumes`);
  return null;
}
