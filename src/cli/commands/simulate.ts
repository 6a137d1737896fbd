import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { embedForSimulation, readLabelledJsonl } from '../../select/simulate-data.js';
import { simulate } from '../../select/simulate.js';
import { STRATEGIES, type StrategyName } from '../../select/strategies.js';

interface SimulateFlags {
  data: string;
  text: string;
  label: string;
  split: string;
  budgets: string;
  seeds: string;
  strategies: string;
  init: string;
  step: string;
  model?: string;
  augment?: string | boolean;
  json?: boolean;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('compare selection strategies on labelled data: labels revealed only for selected rows, probe scored on the test split')
    .requiredOption('--data <file.jsonl>', 'labelled JSONL (plain or .gz) with train and test rows')
    .option('--text <column>', 'text column', 'text')
    .option('--label <column>', 'label column', 'label')
    .option('--split <column>', 'split column (values train / test; others are ignored)', 'split')
    .requiredOption('--budgets <list>', 'labelled-row budgets, e.g. 50,100,200')
    .option('--seeds <n>', 'number of seeds (random initial sets)', '5')
    .option('--strategies <list>', `any of ${STRATEGIES.join(',')}`, 'random,margin,typical,hybrid')
    .option('--init <n>', 'random initial labelled rows', '20')
    .option('--step <n>', 'rows labelled per round', '20')
    .option('--model <model>', 'builtin (fitted on the train texts) or a model directory', 'builtin')
    .option('--augment [perRow]', 'train each probe also on augmentations of its labelled rows (perRow variants each, default 2)')
    .option('--json', 'print one JSON object with results and summary')
    .addHelpText('after', '\nExample:\n  winnow simulate --data datasets/sib200/yor_Latn.jsonl --budgets 50,100,200 --seeds 5 --strategies random,margin,typical,hybrid --json\n')
    .action(async (flags: SimulateFlags) => {
      const budgets = intList(flags.budgets, '--budgets');
      const strategies = flags.strategies.split(',').map((s) => s.trim());
      for (const s of strategies) if (!(STRATEGIES as readonly string[]).includes(s)) throw new ConfigError(`--strategies: unknown strategy "${s}" (choose from ${STRATEGIES.join(', ')})`);
      const seeds = intList(flags.seeds, '--seeds')[0]!;
      const init = intList(flags.init, '--init', true)[0]!;
      const step = intList(flags.step, '--step')[0]!;
      if (init > Math.min(...budgets)) throw new ConfigError(`--init ${init} is larger than the smallest budget ${Math.min(...budgets)}`);
      const rows = await readLabelledJsonl(flags.data, { text: flags.text, label: flags.label, split: flags.split });
      const perRow = flags.augment === undefined || flags.augment === false ? 0 : flags.augment === true ? 2 : intList(flags.augment, '--augment')[0]!;
      const data = await embedForSimulation(rows, { model: flags.model, augment: perRow });
      const log = (m: string): void => void process.stderr.write(`${m}\n`);
      log(`simulate: ${data.train.n} train rows, ${data.test.n} test rows, ${data.classes} labels; ${data.encoder}`);
      const out = await simulate(data, { budgets, seeds, strategies: strategies as StrategyName[], init, step, augment: perRow > 0, progress: flags.json ? undefined : log });
      if (flags.json) {
        process.stdout.write(JSON.stringify(out) + '\n');
        return;
      }
      const lines = ['strategy   budget  accuracy        macro-F1'];
      for (const s of out.summary) lines.push(`${s.strategy.padEnd(10)} ${String(s.budget).padStart(6)}  ${fmt(s.accuracy_mean, s.accuracy_std)}  ${fmt(s.macro_f1_mean, s.macro_f1_std)}`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}

function fmt(m: number, s: number): string {
  return `${m.toFixed(3)} ± ${s.toFixed(3)}`;
}

function intList(v: string, flag: string, allowZero = false): number[] {
  const out = v.split(',').map((p) => Number(p.trim()));
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n < (allowZero ? 0 : 1)))
    throw new ConfigError(`${flag} must be ${allowZero ? 'non-negative' : 'positive'} integers separated by commas (got "${v}")`);
  return out;
}
