import type { Command } from 'commander';
import { reportForRun } from '../../report/write.js';

export function registerReport(program: Command): void {
  program
    .command('report <run>')
    .description('write report.html for a finished run (every run writes one; this rebuilds it)')
    .option('--out <file>', 'file to write (default: <run>/report.html)')
    .action(async (run: string, flags: { out?: string }) => {
      process.stdout.write(`${await reportForRun(run, flags.out)}\n`);
    });
}
