import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { DataType, encodeModel, floatTensor, int64Tensor } from '../onnx/proto.js';
import type { BuiltinModel, BuiltinParams } from './builtin-fit.js';

export const BUILTIN_MANIFEST = 'winnow-encoder.json';
export const BUILTIN_ONNX = 'model.onnx';

const ManifestSchema = z.object({
  format: z.literal('winnow-builtin-encoder'),
  version: z.literal(1),
  hashing: z.object({ buckets: z.number().int(), minN: z.number().int(), maxN: z.number().int(), lowercase: z.boolean(), words: z.boolean() }),
  dim: z.number().int(),
  seed: z.number().int(),
  fitted_on: z.number().int(),
  fingerprint: z.string(),
  inputs: z.object({ ids: z.string(), tf: z.string() }),
  output: z.string(),
});

/**
 * The built-in encoder as an ONNX graph: Gather the projection rows of a text's n-gram buckets,
 * weight them by sublinear term frequency, sum, and L2-normalize. Inputs are padded per batch with
 * weight 0. The sum is a ReduceSum over the feature axis rather than a batched MatMul: it adds in
 * feature order whatever the padded width, so a text gets bit-identical vectors in any batch (a GEMM
 * blocks its reduction by the padded width and does not).
 */
export function builtinOnnx(model: BuiltinModel): Uint8Array {
  const { buckets, dim } = model.params;
  return encodeModel({
    docString: 'winnow built-in encoder: hashed character n-grams, TF-IDF, truncated SVD projection',
    metadata: { 'winnow.format': 'winnow-builtin-encoder' },
    inputs: [
      { name: 'ids', elemType: DataType.INT32, shape: ['batch', 'features'] },
      { name: 'tf', elemType: DataType.FLOAT, shape: ['batch', 'features'] },
    ],
    outputs: [{ name: 'embedding', elemType: DataType.FLOAT, shape: ['batch', dim] }],
    initializers: [floatTensor('projection', [buckets, dim], model.projection), int64Tensor('axis1', [1]), int64Tensor('axis2', [2]), floatTensor('eps', [], Float32Array.of(1e-12))],
    nodes: [
      { op: 'Gather', inputs: ['projection', 'ids'], outputs: ['rows'], attrs: { axis: 0 } },
      { op: 'Unsqueeze', inputs: ['tf', 'axis2'], outputs: ['tf3'] },
      { op: 'Mul', inputs: ['rows', 'tf3'], outputs: ['weighted'] },
      { op: 'ReduceSum', inputs: ['weighted', 'axis1'], outputs: ['sum'], attrs: { keepdims: 0 } },
      { op: 'Mul', inputs: ['sum', 'sum'], outputs: ['sq'] },
      { op: 'ReduceSum', inputs: ['sq', 'axis1'], outputs: ['ss'], attrs: { keepdims: 1 } },
      { op: 'Sqrt', inputs: ['ss'], outputs: ['norm'] },
      { op: 'Max', inputs: ['norm', 'eps'], outputs: ['safe'] },
      { op: 'Div', inputs: ['sum', 'safe'], outputs: ['embedding'] },
    ],
  });
}

/** Hash of the ONNX bytes and the hashing parameters (fixed field order, so any object shape agrees). */
export function fingerprintOf(onnx: Uint8Array, p: BuiltinParams): string {
  const canonical = [p.buckets, p.dim, p.minN, p.maxN, p.lowercase, p.words, p.seed].join('|');
  return createHash('sha256').update(onnx).update(canonical).digest('hex').slice(0, 32);
}

/** Writes model.onnx and winnow-encoder.json into `dir` (temp names, then rename). */
export async function saveBuiltin(dir: string, model: LoadedBuiltin): Promise<void> {
  await mkdir(dir, { recursive: true });
  const { onnx, fingerprint } = model;
  const { buckets, minN, maxN, lowercase, words } = model.params;
  const manifest: z.infer<typeof ManifestSchema> = {
    format: 'winnow-builtin-encoder',
    version: 1,
    hashing: { buckets, minN, maxN, lowercase, words },
    dim: model.params.dim,
    seed: model.params.seed,
    fitted_on: model.fittedOn,
    fingerprint,
    inputs: { ids: 'int32 [batch, features]: hashed n-gram bucket ids, 0-padded', tf: 'float32 [batch, features]: 1 + ln(count), 0 for padding' },
    output: 'float32 [batch, dim]: L2-normalized embedding',
  };
  const tmpOnnx = path.join(dir, `.${BUILTIN_ONNX}.partial-${process.pid}`);
  const tmpJson = path.join(dir, `.${BUILTIN_MANIFEST}.partial-${process.pid}`);
  await writeFile(tmpOnnx, onnx);
  await writeFile(tmpJson, JSON.stringify(manifest, null, 2) + '\n');
  await rename(tmpOnnx, path.join(dir, BUILTIN_ONNX));
  await rename(tmpJson, path.join(dir, BUILTIN_MANIFEST));
}

export interface LoadedBuiltin {
  params: BuiltinParams;
  onnx: Uint8Array;
  fingerprint: string;
  fittedOn: number;
}

export async function loadBuiltin(dir: string): Promise<LoadedBuiltin> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path.join(dir, BUILTIN_MANIFEST), 'utf8'));
  } catch (err) {
    throw new ConfigError(`${dir}: cannot read ${BUILTIN_MANIFEST} (${(err as Error).message})`);
  }
  const m = ManifestSchema.safeParse(raw);
  if (!m.success) throw new ConfigError(`${path.join(dir, BUILTIN_MANIFEST)} is not a winnow built-in encoder manifest: ${m.error.issues[0]?.message}`);
  const onnx = new Uint8Array(await readFile(path.join(dir, BUILTIN_ONNX)));
  const params: BuiltinParams = { ...m.data.hashing, dim: m.data.dim, seed: m.data.seed };
  const fingerprint = fingerprintOf(onnx, params);
  if (fingerprint !== m.data.fingerprint) {
    throw new ConfigError(`${dir}: ${BUILTIN_ONNX} does not match the fingerprint in ${BUILTIN_MANIFEST}; the model files were changed or mixed up`);
  }
  return { params, onnx, fingerprint, fittedOn: m.data.fitted_on };
}
