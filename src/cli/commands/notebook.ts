import path from 'node:path';
import type { Command } from 'commander';
import { WinnowError } from '../../core/errors.js';
import { runNotebook } from '../../notebook/run.js';

export function registerNotebook(program: Command): void {
  program
    .command('notebook <files...>')
    .description('run TypeScript notebooks (.ipynb, tslab format) headless against a run, without Jupyter')
    .option('--run <dir>', 'run folder the notebooks analyse (WINNOW_RUN)', 'out/quickstart')
    .option('--compare <dir>', 'second run for comparisons (WINNOW_RUN_B; default: the same run)')
    .action(async (files: string[], flags: { run: string; compare?: string }) => {
      const env = { WINNOW_RUN: path.resolve(flags.run), WINNOW_RUN_B: path.resolve(flags.compare ?? flags.run) };
      const failed: string[] = [];
      for (const f of files) {
        process.stdout.write(`# ${f}\n`);
        if ((await runNotebook(f, env)) !== 0) failed.push(f);
      }
      if (failed.length > 0) throw new WinnowError(`notebook(s) failed: ${failed.join(', ')}`, 1);
    });
}
