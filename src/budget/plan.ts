import { ConfigError } from '../core/errors.js';
import { CHINCHILLA_FIT, closedFormOptimum, DATABLATIONS, datablationsTokensPerParam, effectiveData, optimalAllocation, scalingLaw } from './scaling-laws.js';

export type Rule = 'chinchilla' | 'chinchilla-fit' | 'datablations';

export interface PlanInput {
  /** Exactly one of params, flops, tokens. */
  params?: number;
  flops?: number;
  tokens?: number;
  /** Unique tokens available (after filtering and dedup); needed for epochs and by datablations. */
  uniqueTokens?: number;
  rule: Rule;
  /** The chinchilla rule's D/N (20 in the paper). */
  tokensPerParam?: number;
}

export interface Plan {
  rule: Rule;
  given: { params?: number; flops?: number; tokens?: number; unique_tokens?: number };
  params: number;
  flops: number;
  /** Target training tokens D. */
  tokens: number;
  tokens_per_param: number;
  /** Unique tokens to select: min(D, U) when U is known, else D. */
  unique_tokens: number;
  /** Passes over the unique data, D / U (1 = every token seen once). */
  epochs: number;
  /** Repeats beyond the first pass, R = D / U - 1. */
  repeats: number;
  epochs_definition: string;
  /** D' = U + U R* (1 - exp(-R / R*)): what the repeated data is worth in unique tokens. */
  effective_tokens: number;
  loss?: number;
  warnings: string[];
}

/**
 * The compute-optimal training-token target for a model size, a compute budget or an explicit token
 * count, and how it maps onto the unique data available.
 */
export function makePlan(input: PlanInput): Plan {
  const given = [input.params, input.flops, input.tokens].filter((v) => v !== undefined);
  if (given.length !== 1) throw new ConfigError('give exactly one of params (--params), flops (--flops) or tokens (--tokens / --budget-tokens)');
  for (const [k, v] of Object.entries({ params: input.params, flops: input.flops, tokens: input.tokens, unique_tokens: input.uniqueTokens })) {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new ConfigError(`${k} must be a positive number (got ${v})`);
  }
  const warnings: string[] = [];
  const U = input.uniqueTokens;
  let N: number;
  let D: number;
  let loss: number | undefined;
  if (input.rule === 'chinchilla') {
    const r = input.tokensPerParam ?? 20;
    if (input.params !== undefined) [N, D] = [input.params, input.params * r];
    else if (input.flops !== undefined) {
      N = Math.sqrt(input.flops / (6 * r));
      D = r * N;
    } else [N, D] = [input.tokens! / r, input.tokens!];
  } else if (input.rule === 'chinchilla-fit') {
    const C = input.flops ?? (input.params !== undefined ? flopsForParams(input.params) : flopsForTokens(input.tokens!));
    ({ N, D } = closedFormOptimum(C, CHINCHILLA_FIT));
    if (input.tokens !== undefined) D = input.tokens;
    if (input.params !== undefined) N = input.params;
    // The ratio alone can look like the headline 20; what is worth saying is that the constants are disputed.
    const ratio = D / N;
    const far = Math.abs(ratio - 20) / 20 > 0.25;
    warnings.push(
      `chinchilla-fit gives ${ratio.toFixed(1)} tokens per parameter here${far ? ", far from the paper's headline 20" : ''}; its Approach-3 constants could not be reproduced (Besiroglu et al. 2024), so treat the split as uncertain. Prefer chinchilla or datablations.`,
    );
  } else {
    const r = datablationsTokensPerParam();
    const C = input.flops ?? (input.params !== undefined ? 6 * input.params * input.params * r : 6 * (input.tokens! / r) * input.tokens!);
    if (U !== undefined && input.tokens === undefined) {
      ({ N, D, loss } = optimalAllocation(C, U));
    } else {
      ({ N, D } = closedFormOptimum(C, DATABLATIONS));
      if (input.tokens !== undefined) [N, D] = [input.tokens / r, input.tokens];
      if (input.params !== undefined) [N, D] = [input.params, input.params * r];
      if (U !== undefined) loss = scalingLaw(N, D, U);
    }
  }
  const unique = U === undefined ? D : Math.min(D, U);
  const epochs = D / unique;
  const repeats = Math.max(epochs - 1, 0);
  if (epochs > 16)
    warnings.push(`${epochs.toFixed(1)} epochs over the unique data: beyond ~16 passes repeated tokens are worth almost nothing (datablations); get more unique data or train a smaller model.`);
  else if (epochs > 4) warnings.push(`${epochs.toFixed(1)} epochs over the unique data: beyond ~4 passes each repeat is worth less than fresh data (datablations).`);
  return {
    rule: input.rule,
    given: { params: input.params, flops: input.flops, tokens: input.tokens, unique_tokens: U },
    params: N,
    flops: 6 * N * D,
    tokens: D,
    tokens_per_param: D / N,
    unique_tokens: unique,
    epochs,
    repeats,
    epochs_definition: 'epochs = passes over the unique data, D / U; repeats = epochs - 1',
    effective_tokens: effectiveData(D, unique),
    loss,
    warnings,
  };
}

/** FLOPs at which the Approach-3 optimum has N parameters (inverts N_opt(C)). */
function flopsForParams(N: number): number {
  const { N: n1 } = closedFormOptimum(6, CHINCHILLA_FIT);
  const a = CHINCHILLA_FIT.beta / (CHINCHILLA_FIT.alpha + CHINCHILLA_FIT.beta);
  return 6 * Math.pow(N / n1, 1 / a);
}

function flopsForTokens(D: number): number {
  const { D: d1 } = closedFormOptimum(6, CHINCHILLA_FIT);
  const b = CHINCHILLA_FIT.alpha / (CHINCHILLA_FIT.alpha + CHINCHILLA_FIT.beta);
  return 6 * Math.pow(D / d1, 1 / b);
}

/** A number for people: 7.03e9 -> "7.03B". */
export function humanNumber(x: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [v, u] of units) if (Math.abs(x) >= v) return `${(x / v).toPrecision(3)}${u}`;
  return x.toPrecision(3);
}
