/**
 * Errors a user can act on. Each kind maps to its own process exit code so a scheduler
 * (cron, Kubernetes, Slurm, Airflow) can tell "fix your config" from "fix your data" from "bug".
 */
export const ExitCode = {
  ok: 0,
  internal: 1,
  config: 2,
  input: 3,
  /** The run ran out of its memory budget: give it more (--memory) and rerun; it resumes. */
  memory: 4,
  /** The machine failed the run: a full disk, a read-only or forbidden folder (sysexits EX_IOERR). */
  environment: 74,
  /** Another run holds the lock on this state or output folder (sysexits EX_TEMPFAIL: retry later). */
  locked: 75,
} as const;

export class WinnowError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The pipeline config or the command line is wrong: nothing was read or written. */
export class ConfigError extends WinnowError {
  constructor(message: string) {
    super(message, ExitCode.config);
  }
}

/** The input data cannot be read as configured (missing file, empty glob, unreadable file). */
export class InputError extends WinnowError {
  constructor(message: string) {
    super(message, ExitCode.input);
  }
}

/** Another live run holds the lock: nothing was read or written; try again when it has finished. */
export class LockedError extends WinnowError {
  constructor(message: string) {
    super(message, ExitCode.locked);
  }
}

/** The run ran out of memory under its budget; its checkpoints are kept, a rerun with more resumes. */
export class OutOfMemoryError extends WinnowError {
  constructor(message: string) {
    super(message, ExitCode.memory);
  }
}
