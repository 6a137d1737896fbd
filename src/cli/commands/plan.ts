import type { Command } from 'commander';
import { humanNumber, makePlan, type Plan, type Rule } from '../../budget/plan.js';
import { ConfigError } from '../../core/errors.js';

interface PlanFlags {
  params?: string;
  flops?: string;
  tokens?: string;
  uniqueTokens?: string;
  rule: string;
  tokensPerParam: string;
  json?: boolean;
}

export function parsePositive(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${flag} must be a positive number such as 7e9 (got "${v}")`);
  return n;
}

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('compute-optimal token budget from model size, compute or a token count')
    .option('--params <n>', 'model parameters N, e.g. 7e9')
    .option('--flops <c>', 'training compute C in FLOPs, e.g. 1e22')
    .option('--tokens <d>', 'an explicit training-token target D')
    .option('--unique-tokens <u>', 'unique tokens available after filtering and dedup')
    .option('--rule <rule>', 'chinchilla | chinchilla-fit | datablations', 'chinchilla')
    .option('--tokens-per-param <r>', 'D/N of the chinchilla rule', '20')
    .option('--json', 'print the plan as JSON')
    .addHelpText('after', '\nExamples:\n  winnow plan --params 7e9\n  winnow plan --flops 1e22 --unique-tokens 25e9 --rule datablations --json\n')
    .action((flags: PlanFlags) => {
      if (!['chinchilla', 'chinchilla-fit', 'datablations'].includes(flags.rule)) throw new ConfigError(`--rule must be chinchilla, chinchilla-fit or datablations (got "${flags.rule}")`);
      const plan = makePlan({
        params: parsePositive(flags.params, '--params'),
        flops: parsePositive(flags.flops, '--flops'),
        tokens: parsePositive(flags.tokens, '--tokens'),
        uniqueTokens: parsePositive(flags.uniqueTokens, '--unique-tokens'),
        rule: flags.rule as Rule,
        tokensPerParam: parsePositive(flags.tokensPerParam, '--tokens-per-param'),
      });
      process.stdout.write(flags.json ? JSON.stringify(plan) + '\n' : formatPlan(plan));
    });
}

export function formatPlan(p: Plan): string {
  const lines = [
    `rule            ${p.rule}`,
    `parameters      ${humanNumber(p.params)}`,
    `training FLOPs  ${p.flops.toExponential(3)}`,
    `target tokens   ${humanNumber(p.tokens)} (${p.tokens_per_param.toFixed(1)} tokens per parameter)`,
    `unique tokens   ${humanNumber(p.unique_tokens)} to select`,
    `epochs          ${p.epochs.toFixed(2)} passes over the unique data (repeats ${p.repeats.toFixed(2)})`,
    `effective data  ${humanNumber(p.effective_tokens)} unique-token equivalents`,
    ...(p.loss !== undefined ? [`predicted loss  ${p.loss.toFixed(4)} (datablations C4 fit)`] : []),
    ...p.warnings.map((w) => `warning: ${w}`),
    '',
  ];
  return lines.join('\n');
}
