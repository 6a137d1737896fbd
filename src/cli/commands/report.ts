import type { Command } from 'commander';
import { reportForRun } from '../../report/write.js';

export function registerReport(program: Command): void {
  program
    .command('report <run>')
    .description('write report.html for a finished run (every run writes one; this rebuilds it)')
    .option('--out <file>', 'file to write (default: <run>/report.html)')
    .option('--color-by <columns...>', 'more columns of samples to color the embedding map by (status, language and source always)')
    .action(async (run: string, flags: { out?: string; colorBy?: string[] }) => {
      process.stdout.write(`${await reportForRun(run, flags.out, { colorBy: flags.colorBy })}\n`);
    });
}
