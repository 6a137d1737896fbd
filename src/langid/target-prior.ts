/**
 * The share of a corpus that is in the target languages, fitted from the corpus itself: the EM
 * procedure of Saerens, Latinne and Decaestecker (2002, "Adjusting the outputs of a classifier to new
 * a priori probabilities"). Each row's evidence is its log likelihood ratio, target (or confusable)
 * against the rest; the prior is the mean posterior under the prior, iterated to its fixed point.
 *
 * A corpus that is mostly the target language then keeps the rows whose evidence is weak (a tweet
 * that switches language, spelling the profiles never saw) instead of rejecting them at even odds.
 * The prior never goes below `floor` (the user named the target: it is at least as likely as not),
 * so a corpus where the target is rare is judged as at a fixed prior of `floor`, never more harshly;
 * nor above `cap`, so no prior alone keeps a row whose evidence is plainly against it.
 */
export interface FittedPrior {
  prior: number;
  iterations: number;
  /** The EM estimate before the floor and cap. */
  estimate: number;
}

export const PRIOR_FLOOR = 0.5;
export const PRIOR_CAP = 0.99;
const MAX_ITERATIONS = 200;
const TOLERANCE = 1e-6;

export const logit = (p: number): number => Math.log(p / (1 - p));
export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * The evidence (log likelihood ratio) a row needs to be kept at `prior`: its posterior must reach
 * 1 - minConfidence. One rule for the streaming verdict, the langid_prior stage and the benchmark.
 */
export function evidenceNeeded(prior: number, minConfidence: number): number {
  return logit(1 - minConfidence) - logit(prior);
}

/**
 * EM for the prior: `meanPosterior(a)` is the mean over the corpus of sigmoid(llr + a), the rows'
 * posterior at prior logit a (over an array here, or a column in the run store). The result is
 * rounded to 4 decimals, so a sum whose last bits depend on the order it was taken in (DuckDB adds
 * in parallel) cannot move a decision.
 */
export async function fitTargetPrior(rows: number, meanPosterior: (a: number) => number | Promise<number>, floor = PRIOR_FLOOR, cap = PRIOR_CAP): Promise<FittedPrior> {
  if (rows === 0) return { prior: floor, iterations: 0, estimate: floor };
  let estimate = floor;
  let iterations = 0;
  while (iterations < MAX_ITERATIONS) {
    iterations++;
    const next = await meanPosterior(logit(Math.min(cap, Math.max(1 - cap, estimate))));
    const done = Math.abs(next - estimate) < TOLERANCE;
    estimate = next;
    if (done) break;
  }
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  return { prior: round(Math.min(cap, Math.max(floor, estimate))), iterations, estimate: round(estimate) };
}

/** meanPosterior over an array of log likelihood ratios. */
export function meanPosteriorOf(llr: Float64Array): (a: number) => number {
  return (a) => {
    let sum = 0;
    for (let i = 0; i < llr.length; i++) sum += sigmoid(llr[i]! + a);
    return sum / llr.length;
  };
}
