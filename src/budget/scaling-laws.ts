/**
 * Compute-optimal scaling laws. C = 6 N D throughout (training FLOPs for N parameters on D tokens).
 *
 * - Chinchilla rule of thumb (Hoffmann et al. 2022, arXiv 2203.15556): D = 20 N.
 * - Chinchilla Approach-3 fit: L(N, D) = E + A/N^alpha + B/D^beta with E=1.69, A=406.4, B=410.7,
 *   alpha=0.34, beta=0.28; its closed-form optimum gives far more than 20 tokens per parameter at
 *   large C (Besiroglu et al. 2024, arXiv 2404.10102, could not reproduce the fit).
 * - Data-constrained law (Muennighoff et al. 2023, huggingface/datablations, C4 fit): repeated data
 *   and excess parameters decay with R*_D = 15.39 and R*_N = 5.31.
 */

export const CHINCHILLA_FIT = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 } as const;

/** datablations README constants (A, B, E given there in log space). */
export const DATABLATIONS = {
  A: Math.exp(6.255414),
  B: Math.exp(7.3049974),
  E: Math.exp(0.6254804),
  alpha: 0.3526596,
  beta: 0.3526596,
  rdStar: 15.387756,
  rnStar: 5.309743,
} as const;

/** Closed-form compute-optimal N and D for L = E + A/N^alpha + B/D^beta under C = 6ND. */
export function closedFormOptimum(C: number, law: { A: number; B: number; alpha: number; beta: number }): { N: number; D: number } {
  const G = Math.pow((law.alpha * law.A) / (law.beta * law.B), 1 / (law.alpha + law.beta));
  const a = law.beta / (law.alpha + law.beta);
  const b = law.alpha / (law.alpha + law.beta);
  return { N: G * Math.pow(C / 6, a), D: Math.pow(C / 6, b) / G };
}

/** Tokens per parameter of the data-constrained law's unconstrained optimum (constant, ~19.6, since alpha = beta). */
export function datablationsTokensPerParam(): number {
  const { N, D } = closedFormOptimum(1e22, DATABLATIONS);
  return D / N;
}

/** Effective data D' = U + U R*_D (1 - exp(-R_D / R*_D)), with R_D = D/U - 1 repeated epochs. */
export function effectiveData(D: number, U: number, rdStar: number = DATABLATIONS.rdStar): number {
  const R = Math.max(D / U - 1, 0);
  return U + U * rdStar * (1 - Math.exp(-R / rdStar));
}

/**
 * The data-constrained loss L(N, D, U) of datablations: parameters beyond what U unique tokens can
 * use compute-optimally decay with R*_N, repeated tokens with R*_D.
 */
export function scalingLaw(N: number, D: number, U: number): number {
  const k = DATABLATIONS;
  const uN = Math.min(N, U / datablationsTokensPerParam());
  const RN = Math.max(N / uN - 1, 0);
  const effN = uN + uN * k.rnStar * (1 - Math.exp(-RN / k.rnStar));
  return k.E + k.A / Math.pow(effN, k.alpha) + k.B / Math.pow(effectiveData(D, U), k.beta);
}

/**
 * The loss-minimizing N (and D = C / 6N) for compute C with U unique tokens, by a log-spaced grid
 * search refined around the best point (as the datablations notebook does).
 */
export function optimalAllocation(C: number, U: number): { N: number; D: number; loss: number } {
  let lo = Math.log(1e6);
  let hi = Math.log(Math.max(C / 6 / 1e3, 1e7));
  let best = { N: 0, D: 0, loss: Infinity };
  for (let round = 0; round < 6; round++) {
    const steps = 400;
    let bestI = 0;
    for (let i = 0; i <= steps; i++) {
      const N = Math.exp(lo + ((hi - lo) * i) / steps);
      const D = C / (6 * N);
      const loss = scalingLaw(N, D, U);
      if (loss < best.loss) {
        best = { N, D, loss };
        bestI = i;
      }
    }
    const span = (hi - lo) / steps;
    const center = lo + bestI * span;
    lo = center - 2 * span;
    hi = center + 2 * span;
  }
  return best;
}
