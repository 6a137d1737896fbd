import path from 'node:path';
import type { Command } from 'commander';
import { defaultPipeline } from '../../config/default-pipeline.js';
import { loadPipelineFile } from '../../config/load.js';
import { overlay, replaced, type ConfigPatch } from '../../config/overlay.js';
import { humanNumber, type Plan } from '../../budget/plan.js';
import { ConfigError } from '../../core/errors.js';
import { parsePositive } from './plan.js';
import { configHash as configHashOf, runPipeline, type RunSummary } from '../../pipeline/run.js';
import { parseShard } from '../../jobs/shard.js';
import { runIncremental, type StateInfo } from '../../jobs/incremental.js';
import { createLogger, resolveLogFormat, type LogFormat, type Logger } from '../../util/log.js';

interface RunFlags {
  augment?: boolean;
  input?: string[];
  textColumn?: string;
  idColumn?: string;
  langColumn?: string;
  labelColumn?: string;
  out?: string;
  json?: boolean;
  quiet?: boolean;
  logFormat?: string;
  state?: string;
  shard?: string;
  budgetTokens?: string;
  params?: string;
  flops?: string;
  rule?: string;
  lang?: string;
  workers?: string;
  memory?: string;
}

export const MEMORY_HELP =
  "the run's memory budget, e.g. 8GB, or auto (default: execution.memory, else 60% of the machine's); DuckDB gets half unless store.memory_limit says otherwise; env WINNOW_MEMORY. Changing it keeps a run's checkpoints";

/** `--workers`: auto or a positive integer. */
function parseWorkers(v: string | undefined): number | 'auto' | undefined {
  if (v === undefined || v === 'auto') return v;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new ConfigError(`--workers: "${v}" is not a number of worker threads; give 1-256 or auto`);
  return n;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a pipeline: read, filter, dedup, embed, select, fit the token budget and emit, with a DuckDB record of every row')
    .argument('[pipeline]', 'pipeline YAML file (see pipelines/); omit it and give --input to run the default pipeline')
    .option('--input <path...>', 'file, folder or glob to read with the default pipeline (repeatable)')
    .option('--text-column <name>', 'column holding the text (default: text)')
    .option('--id-column <name>', 'column holding a stable id, kept as samples.id (default: "id" where a row has one, else derived from source, file and row)')
    .option('--lang-column <name>', 'column holding a language code')
    .option('--label-column <name>', 'column holding a label')
    .option('--out <dir>', 'output folder (default: output.dir of the pipeline, else out/<pipeline name>)')
    .option('--shard <i/n>', 'process shard i of n (0-based): a deterministic 1/n of the input files; finish with winnow merge')
    .option('--state <dir>', 'incremental job: read only new or changed files, dedup against everything kept before, write DIR/runs/<date>/ and move DIR/latest')
    .option('--budget-tokens <d>', 'size the selection to this many training tokens')
    .option('--params <n>', 'size the selection for a model of N parameters (compute-optimal)')
    .option('--flops <c>', 'size the selection for C training FLOPs (compute-optimal)')
    .option('--rule <rule>', 'budget rule: chinchilla | chinchilla-fit | datablations')
    .option('--augment', 'fill part of a budget the real data cannot cover with augmentations (stages.augment)')
    .option('--workers <n>', 'worker threads for the streaming stages and the select stage blocks: auto (default: every core, fewer for small inputs) or a number; 1 runs them on the main thread')
    .option('--memory <size>', MEMORY_HELP)
    .option('--json', 'print the run summary as JSON on stdout')
    .option('--quiet', 'no progress or summary on stderr')
    .option('--log-format <format>', 'stderr logs: text, json (one object per line) or auto (json when stdout is not a terminal; env WINNOW_LOG_FORMAT)', 'auto')
    .addHelpText('after', '\nExamples:\n  winnow run pipelines/quickstart.yaml --out out/quickstart\n  winnow run --input "lake/**/*.jsonl.gz" --id-column doc_id --out out/lake\n')
    .action(async (pipelineFile: string | undefined, flags: RunFlags) => {
      if (pipelineFile && flags.input) throw new ConfigError('give either a pipeline file or --input, not both');
      if (!pipelineFile && !flags.input) throw new ConfigError('give a pipeline file (winnow run pipelines/quickstart.yaml) or --input <path|glob>');
      if (pipelineFile && (flags.textColumn || flags.idColumn || flags.langColumn || flags.labelColumn)) {
        throw new ConfigError('--text-column/--id-column/--lang-column/--label-column go with --input; in a pipeline file set sources[].columns');
      }
      const base = pipelineFile
        ? loadPipelineFile(pipelineFile)
        : defaultPipeline({ input: flags.input!, textColumn: flags.textColumn, idColumn: flags.idColumn, langColumn: flags.langColumn, labelColumn: flags.labelColumn });
      const loaded = overlay(base, { stages: { budget: budgetPatch(flags), ...(flags.augment ? { augment: { enabled: true } } : {}) } }, 'the command-line flags');
      const workers = parseWorkers(flags.workers);
      const format = logFormatFlag(flags.logFormat);
      const log = createLogger({ quiet: flags.quiet, format });
      if (flags.shard) {
        if (flags.state) throw new ConfigError('--shard and --state do not go together: shard a job, then merge it (see docs/scheduled-jobs.md, "Sharded runs")');
        const shard = parseShard(flags.shard);
        if (loaded.config.stages.embed.enabled && loaded.config.stages.embed.model === 'builtin') {
          throw new ConfigError(
            'stages.embed.model: sharded runs need one encoder shared by all shards, and "builtin" would fit one per shard. Fit it once (winnow embed --input <sample> --out sample.parquet --save-model models/enc) and set stages.embed.model: models/enc.',
          );
        }
        const configHash = configHashOf(loaded.config);
        const outDir = flags.out ?? path.join('out', `${loaded.config.name}-shard-${shard.index}-of-${shard.count}`);
        // Each shard keeps its vectors in its own cache, which the merge joins instead of embedding again.
        const shardRun = overlay(loaded, { stages: { embed: { cache: path.resolve(outDir, 'embed-cache') } } }, '--shard');
        const summary = await runPipeline(shardRun, { outDir, log, shard: { ...shard, configHash }, workers, memory: flags.memory });
        printSummary(
          { ...flags, format, log },
          { ...summaryJson(summary), shard },
          () => formatSummary(summary) + `shard ${shard.index}/${shard.count} done; when all ${shard.count} are: winnow merge <shard folders> --out <dir>\n`,
        );
        return;
      }
      if (flags.state) {
        if (flags.out) throw new ConfigError('--state writes each run to <state>/runs/<date>/ (and <state>/latest); leave out --out');
        const { summary, state } = await runIncremental(loaded, { stateDir: flags.state, log, workers, memory: flags.memory });
        const json = { ...(summary ? summaryJson(summary) : { run_id: null, counts: null }), state };
        printSummary({ ...flags, format, log }, json, () => (summary ? formatSummary(summary) : '') + formatState(state));
        return;
      }
      const outDir = flags.out ?? (loaded.config.output.dir ? path.resolve(loaded.baseDir, loaded.config.output.dir) : path.join('out', loaded.config.name));
      const summary = await runPipeline(loaded, { outDir, log, workers, memory: flags.memory });
      printSummary({ ...flags, format, log }, summaryJson(summary), () => formatSummary(summary));
    });
}

/**
 * How a run ends on the command line: `--json` puts the summary on stdout; unless `--quiet`, stderr
 * gets it too, as a `summary` event in JSON logs or as the human text.
 */
export function printSummary(out: { json?: boolean; quiet?: boolean; format: LogFormat; log: Logger }, json: Record<string, unknown>, text: () => string): void {
  if (out.json) process.stdout.write(JSON.stringify(json) + '\n');
  if (out.quiet) return;
  if (out.format === 'json') out.log.event('summary', json);
  else process.stderr.write(text());
}

export function logFormatFlag(flag: string | undefined): LogFormat {
  try {
    return resolveLogFormat(flag === 'auto' ? undefined : flag);
  } catch (err) {
    throw new ConfigError(`--log-format: ${(err as Error).message}`);
  }
}

/** What the budget flags change: the target (one of three) replaces the pipeline's, and the rule. */
function budgetPatch(flags: RunFlags): ConfigPatch {
  const target = {
    tokens: parsePositive(flags.budgetTokens, '--budget-tokens'),
    params: parsePositive(flags.params, '--params'),
    flops: parsePositive(flags.flops, '--flops'),
  };
  const given = Object.entries(target).filter(([, v]) => v !== undefined);
  if (given.length > 1) throw new ConfigError('give only one of --budget-tokens, --params or --flops');
  if (flags.rule && !['chinchilla', 'chinchilla-fit', 'datablations'].includes(flags.rule)) throw new ConfigError(`--rule must be chinchilla, chinchilla-fit or datablations (got "${flags.rule}")`);
  // A target replaces the whole target object: tokens from the YAML and --params would be two targets.
  return { target: given.length === 1 ? replaced(Object.fromEntries(given)) : undefined, rule: flags.rule };
}

export function summaryJson(s: RunSummary): Record<string, unknown> {
  return { run_id: s.runId, out_dir: s.outDir, counts: s.counts, ids: s.ids, stages: s.stages, budget: s.budget ?? null, augment: s.augment ?? null, outputs: s.outputs, seconds: s.seconds };
}

function budgetLines(s: RunSummary): string[] {
  const b = s.budget as { plan: Plan | null; selected_unique_tokens?: number; unique_tokens_available?: number; tokenizer?: string } | undefined;
  if (!b?.plan) return b?.unique_tokens_available !== undefined ? [`  tokens      ${b.unique_tokens_available.toLocaleString('en-US')} unique (${b.tokenizer}), no budget target`] : [];
  const p = b.plan;
  const sel = b.selected_unique_tokens ?? 0;
  return [
    `  budget      ${p.rule}: ${humanNumber(p.params)} params, ${humanNumber(p.tokens)} training tokens (${b.tokenizer})`,
    `              unique tokens ${humanNumber(sel)} selected of ${humanNumber(b.unique_tokens_available ?? 0)} available; target ${humanNumber(p.unique_tokens)}`,
    `              ${(p.tokens / Math.max(sel, 1)).toFixed(2)} epochs over the selection to reach the target${p.unique_tokens < p.tokens ? ` (shortfall: ${humanNumber(p.tokens - sel)} target tokens not covered by unique data)` : ''}`,
    ...p.warnings.map((w) => `              warning: ${w}`),
    ...augmentLines(s, p.tokens),
  ];
}

function augmentLines(s: RunSummary, target: number): string[] {
  const a = s.augment as { split?: { unique_real: number; repeated_real: number; synthetic: number }; kept?: number; generated?: number; parents_used?: number } | undefined;
  if (!a?.split) return [];
  const { unique_real: u, repeated_real: r, synthetic: y } = a.split;
  const pct = (v: number): string => `${((100 * v) / Math.max(target, 1)).toFixed(1)}%`;
  return [
    `  training    ${humanNumber(u)} unique real (${pct(u)}) + ${humanNumber(r)} repeated real (${pct(r)}) + ${humanNumber(y)} synthetic (${pct(y)})`,
    `              ${a.kept ?? 0} augmentations kept of ${a.generated ?? 0} made, from ${a.parents_used ?? 0} parents`,
  ];
}

function formatState(s: StateInfo): string {
  const f = s.files;
  return [
    `state ${path.relative('.', s.state_dir) || '.'}: run ${s.seq} ${s.status}${s.resumed_pending ? ' (finished an interrupted run)' : ''}`,
    `  files       ${f.new} new, ${f.changed} changed, ${f.unchanged} unchanged${f.missing ? `, ${f.missing} gone` : ''}`,
    `  superseded  ${s.superseded_rows.toLocaleString('en-US')} rows of earlier versions of changed files`,
    ...(s.latest ? [`  latest      ${path.relative('.', s.latest)}${s.out_dir ? ` -> ${path.relative(s.state_dir, s.out_dir)}` : ' (unchanged)'}`] : []),
    `  history:    winnow runs ${path.relative('.', s.state_dir) || '.'}`,
    '',
  ].join('\n');
}

function idLines(s: RunSummary): string[] {
  if (!s.ids) return [];
  const n = (x: number): string => x.toLocaleString('en-US');
  const cols = [...new Set(Object.values(s.ids.columns))].map((c) => `"${c}"`).join(', ');
  const parts = [...(cols ? [`${n(s.ids.from_column)} from column ${cols}`] : []), ...(s.ids.derived > 0 || !cols ? [`${n(s.ids.derived)} derived (source:file:row)`] : [])];
  return [`  ids         ${parts.join(', ')}`];
}

export function formatSummary(s: RunSummary): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const lines = [
    '',
    `winnow run ${s.runId} finished in ${s.seconds.toFixed(1)} s`,
    `  rows read   ${n(s.counts.input)}`,
    `  selected    ${n(s.counts.selected)}`,
    `  rejected    ${n(s.counts.rejected_total)}`,
    ...Object.entries(s.counts.rejected)
      .sort((a, b) => b[1] - a[1])
      .map(([reason, k]) => `    ${reason.padEnd(18)}${n(k)}`),
    ...idLines(s),
    '  stages',
    ...s.stages.map((st) => `    ${st.stage.padEnd(18)}in ${n(st.in)}  out ${n(st.out)}  ${st.seconds.toFixed(2)} s`),
    '  outputs',
    ...Object.values(s.outputs).map((p) => `    ${path.relative('.', p) || p}`),
    ...budgetLines(s),
    `  query it:   winnow query ${path.relative('.', s.outDir) || '.'} "select reason, count(*) from samples group by all"`,
    '',
  ];
  return lines.join('\n');
}
