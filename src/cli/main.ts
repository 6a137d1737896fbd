#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { environmentError } from '../core/environment-error.js';
import { ExitCode, WinnowError } from '../core/errors.js';
import { releaseHeldLocksSync } from '../jobs/lock.js';
import { WINNOW_VERSION } from '../util/versions.js';
/**
 * Each command's module, loaded only when that command runs: `winnow query` need not load the
 * pipeline, language ID and ONNX (it starts in 0.5 s instead of 1.2 s). Listed in help order.
 */
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  run: async () => (await import('./commands/run.js')).registerRun,
  query: async () => (await import('./commands/query.js')).registerQuery,
  embed: async () => (await import('./commands/embed.js')).registerEmbed,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctor,
  plan: async () => (await import('./commands/plan.js')).registerPlan,
  simulate: async () => (await import('./commands/simulate.js')).registerSimulate,
  label: async () => (await import('./commands/label.js')).registerLabel,
  report: async () => (await import('./commands/report.js')).registerReport,
  notebook: async () => (await import('./commands/notebook.js')).registerNotebook,
  runs: async () => (await import('./commands/runs.js')).registerRuns,
  merge: async () => (await import('./commands/merge.js')).registerMerge,
  cache: async () => (await import('./commands/cache.js')).registerCache,
};

/** The program with the command `argv` names, or with every command (for help and unknown names). */
export async function buildProgram(argv: string[] = process.argv): Promise<Command> {
  const program = new Command();
  program.name('winnow').description('curate compute-optimal training data from raw text corpora').version(WINNOW_VERSION).showHelpAfterError().exitOverride();
  const named = argv[2];
  const wanted = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
  for (const name of wanted) (await COMMANDS[name]!())(program);
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
    await (await buildProgram(argv)).parseAsync(argv);
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
for (const [signal, code] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const) {
  process.once(signal, () => {
    releaseHeldLocksSync();
    process.stderr.write(`\nwinnow: stopped by ${signal}; run the same command again to resume from the last checkpoint\n`);
    process.exit(code);
  });
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
