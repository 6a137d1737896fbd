#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { environmentError } from '../core/environment-error.js';
import { ExitCode, WinnowError } from '../core/errors.js';
import { releaseHeldLocksSync } from '../jobs/lock.js';
import { WINNOW_VERSION } from '../util/versions.js';
import { registerDoctor } from './commands/doctor.js';
import { registerEmbed } from './commands/embed.js';
import { registerPlan } from './commands/plan.js';
import { registerQuery } from './commands/query.js';
import { registerRun } from './commands/run.js';
import { registerSimulate } from './commands/simulate.js';
import { registerLabel } from './commands/label.js';
import { registerReport } from './commands/report.js';
import { registerNotebook } from './commands/notebook.js';
import { registerRuns } from './commands/runs.js';
import { registerMerge } from './commands/merge.js';
import { registerCache } from './commands/cache.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('winnow')
    .description('curate compute-optimal training data from raw text corpora')
    .version(WINNOW_VERSION)
    .showHelpAfterError()
    .exitOverride();
  registerRun(program);
  registerQuery(program);
  registerEmbed(program);
  registerDoctor(program);
  registerPlan(program);
  registerSimulate(program);
  registerLabel(program);
  registerReport(program);
  registerNotebook(program);
  registerRuns(program);
  registerMerge(program);
  registerCache(program);
  const override = (c: Command): void => {
    for (const sub of c.commands) {
      sub.exitOverride();
      override(sub);
    }
  };
  override(program);
  return program;
}

/** Maps every failure to a documented exit code and a message without a stack trace for user errors. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.config;
    }
    const known = err instanceof WinnowError ? err : environmentError(err);
    if (known) {
      process.stderr.write(`error: ${known.message}\n`);
      return known.exitCode;
    }
    process.stderr.write(`internal error (please report it): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return ExitCode.internal;
  }
}

// Stopped by a scheduler (SIGTERM: preemption, a pod's shutdown, scancel) or Ctrl-C: the work folder
// stays for the next run to resume from, the lock goes so that run need not wait or take it over.
for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
  process.once(signal, () => {
    releaseHeldLocksSync();
    process.stderr.write(`\nwinnow: stopped by ${signal}; run the same command again to resume from the last checkpoint\n`);
    process.exit(code);
  });
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
