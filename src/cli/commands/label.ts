import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { exportLabelBatch, importLabels } from '../../select/label-io.js';
import { STRATEGIES, type StrategyName } from '../../select/strategies.js';

interface ExportFlags {
  n: string;
  format: string;
  out?: string;
  strategy: string;
}

export function registerLabel(program: Command): void {
  const label = program.command('label').description('active learning: export rows to annotate, import the labels back');
  label
    .command('export <run>')
    .description('write the next rows to label (id, text, lang, why they were picked) and record the round')
    .requiredOption('--n <count>', 'rows to export')
    .option('--format <format>', 'csv or jsonl', 'csv')
    .option('--out <file>', 'file to write (default: <run>/label-round-<k>.<format>)')
    .option('--strategy <name>', `selection strategy (${STRATEGIES.join(', ')})`, 'hybrid')
    .addHelpText('after', '\nExample:\n  winnow label export out/run1 --n 50 --format csv --out to-label.csv\n')
    .action(async (run: string, flags: ExportFlags) => {
      const n = Number(flags.n);
      if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--n must be a positive integer (got "${flags.n}")`);
      if (flags.format !== 'csv' && flags.format !== 'jsonl') throw new ConfigError(`--format must be csv or jsonl (got "${flags.format}")`);
      if (!(STRATEGIES as readonly string[]).includes(flags.strategy)) throw new ConfigError(`--strategy must be one of ${STRATEGIES.join(', ')} (got "${flags.strategy}")`);
      const r = await exportLabelBatch(run, {
        n,
        format: flags.format,
        out: flags.out,
        strategy: flags.strategy as StrategyName,
      });
      process.stdout.write(`round ${r.round}: ${r.rows} rows to label written to ${r.file}\n`);
    });
  label
    .command('import <run> <file>')
    .description('validate a CSV/TSV/JSONL file of id,label and merge it as a new round (all or nothing)')
    .option('--labels <list>', 'label values to accept besides those the run already knows, comma-separated')
    .addHelpText('after', '\nThe next `winnow run` with the same --out uses the imported labels.\nExample:\n  winnow label import out/run1 to-label.csv\n')
    .action(async (run: string, file: string, flags: { labels?: string }) => {
      const extra = flags.labels
        ? flags.labels
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [];
      const r = await importLabels(run, file, extra);
      process.stdout.write(`round ${r.round}: imported ${r.imported} labels${r.skipped ? `, skipped ${r.skipped} rows with an empty label` : ''}\n`);
    });
}
