/**
 * Nearest-rank quantiles of `values` (sorted once): for each p in [0, 1], the value at rank
 * floor(p x n), clamped to the last; 0 for no values.
 */
export function quantiles(values: ArrayLike<number>, ps: readonly number[]): number[] {
  const sorted = Float64Array.from(values).sort();
  return ps.map((p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);
}
