import type { Batch } from '../core/batch.js';
import { openTokenCounter, type TokenCounter } from '../budget/token-count.js';
import { batchStage, type Stage, type StageEnv } from './stage.js';

/**
 * Training tokens of every row with text (samples.tokens), counted in the streaming phase so that
 * the local executor spreads it over every core; the budget stage counts only what is still
 * missing (rows added later, stores from earlier versions). Rejected rows are counted too: the
 * report's "tokens in" is about everything read.
 */
export function tokensStage(tokenizer: string, env: StageEnv): Stage {
  let counter: Promise<TokenCounter> | undefined;
  return batchStage(async (b: Batch) => {
    counter ??= openTokenCounter(tokenizer, env.baseDir);
    const { count } = await counter;
    const tokens: (number | null)[] = new Array(b.size).fill(null);
    for (let i = 0; i < b.size; i++) {
      const t = b.text[i];
      if (t !== null && t !== undefined) tokens[i] = count(t);
    }
    b.extra.tokens = tokens;
    return b;
  });
}
