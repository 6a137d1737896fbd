import { csrFromRows } from '../math/sparse.js';
import { randomizedSvd } from '../math/randomized-svd.js';
import type { Kernels } from '../math/randomized-svd.js';
import { NgramCounter, ngramCounts, sublinearTf, type HashingParams } from './ngram-hash.js';

export interface BuiltinParams extends HashingParams {
  dim: number;
  seed: number;
}

export const DEFAULT_BUILTIN: Omit<BuiltinParams, 'seed'> = { buckets: 1 << 16, dim: 256, minN: 1, maxN: 5, lowercase: true, words: true };

export interface BuiltinModel {
  params: BuiltinParams;
  /** (buckets x dim) row-major: row j is idf_j times the j-th right singular vector. */
  projection: Float32Array;
  /** Documents the model was fitted on. */
  fittedOn: number;
}

/**
 * Fits the built-in encoder on a sample of the corpus: TF-IDF over hashed character n-grams, then a
 * rank-`dim` randomized SVD. IDF is folded into the projection rows, so encoding a text needs only
 * its n-gram term frequencies: embedding = normalize(sum_j tf_j * projection[j]).
 */
export async function fitBuiltin(texts: readonly string[], params: BuiltinParams, kernels: Kernels): Promise<BuiltinModel> {
  const counter = new NgramCounter(params);
  const rows = texts.map((t) => {
    const { ids, counts } = counter.count(t);
    return { ids, values: sublinearTf(counts) };
  });
  const df = new Float64Array(params.buckets);
  for (const r of rows) for (const id of r.ids) df[id]!++;
  const n = rows.length;
  const idf = new Float32Array(params.buckets);
  for (let j = 0; j < params.buckets; j++) idf[j] = Math.log((1 + n) / (1 + df[j]!)) + 1;
  for (const r of rows) {
    let norm = 0;
    for (let k = 0; k < r.ids.length; k++) {
      r.values[k]! *= idf[r.ids[k]!]!;
      norm += r.values[k]! * r.values[k]!;
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let k = 0; k < r.values.length; k++) r.values[k]! *= inv;
  }
  // The SVD runs over the buckets that occur in the sample only (a compact column space): the dense
  // factors then scale with the sample's vocabulary, not with the bucket count.
  const used: number[] = [];
  const compact = new Int32Array(params.buckets).fill(-1);
  for (let j = 0; j < params.buckets; j++) {
    if (df[j]! > 0) {
      compact[j] = used.length;
      used.push(j);
    }
  }
  const compactRows = rows.map((r) => ({ ids: r.ids.map((id) => compact[id]!), values: r.values }));
  const svd = await randomizedSvd(csrFromRows(compactRows, used.length), params.dim, kernels, { seed: params.seed });
  const dim = params.dim;
  const projection = new Float32Array(params.buckets * dim);
  used.forEach((j, u) => {
    const f = idf[j]!;
    for (let c = 0; c < svd.rank; c++) projection[j * dim + c] = f * svd.v[u * svd.rank + c]!;
  });
  return { params, projection, fittedOn: n };
}

/** The reference computation of an embedding in plain TypeScript (what the ONNX graph must match). */
export function encodeReference(model: BuiltinModel, text: string): Float32Array {
  const { ids, counts } = ngramCounts(text, model.params);
  const tf = sublinearTf(counts);
  const d = model.params.dim;
  const out = new Float64Array(d);
  for (let k = 0; k < ids.length; k++) {
    const o = ids[k]! * d;
    for (let c = 0; c < d; c++) out[c]! += tf[k]! * model.projection[o + c]!;
  }
  let norm = 0;
  for (let c = 0; c < d; c++) norm += out[c]! * out[c]!;
  const inv = 1 / Math.max(Math.sqrt(norm), 1e-12);
  return Float32Array.from(out, (v) => v * inv);
}
