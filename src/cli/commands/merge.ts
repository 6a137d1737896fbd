import path from 'node:path';
import type { Command } from 'commander';
import { readShards, shardPipeline } from '../../jobs/merge.js';
import { runPipeline } from '../../pipeline/run.js';
import { overlay } from '../../config/overlay.js';
import { createLogger } from '../../util/log.js';
import { formatSummary, logFormatFlag, MEMORY_HELP, printSummary, summaryJson } from './run.js';

/** `winnow merge`: finishes a sharded job (global dedup, GreeDi selection, budget, outputs). */
export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description("merge the outputs of winnow run --shard i/n: exact and near dedup across shards, selection over the shards' picks (GreeDi), budget, outputs")
    .argument('<shards...>', 'the shard output folders (all n of them)')
    .requiredOption('--out <dir>', 'output folder of the merged run')
    .option('--memory <size>', MEMORY_HELP)
    .option('--json', 'print the run summary as JSON on stdout')
    .option('--quiet', 'no progress or summary on stderr')
    .option('--log-format <format>', 'stderr logs: text, json or auto', 'auto')
    .addHelpText('after', '\nExample:\n  winnow merge out/shard-0 out/shard-1 out/shard-2 out/shard-3 --out out/merged\n')
    .action(async (dirs: string[], flags: { out: string; memory?: string; json?: boolean; quiet?: boolean; logFormat?: string }) => {
      const shards = readShards(dirs);
      const outDir = path.resolve(flags.out);
      const loaded = overlay(shardPipeline(shards), { stages: { embed: { cache: path.join(outDir, 'embed-cache') } } }, 'winnow merge');
      const format = logFormatFlag(flags.logFormat);
      const log = createLogger({ quiet: flags.quiet, format });
      const summary = await runPipeline(loaded, { outDir, log, merge: shards, memory: flags.memory });
      printSummary({ ...flags, format, log }, { ...summaryJson(summary), merged_shards: shards.length }, () => formatSummary(summary));
    });
}
