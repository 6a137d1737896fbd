import { existsSync } from 'node:fs';
import path from 'node:path';
import type { EmbedConfig } from '../config/schema.js';
import { MatMulKernel, SparseKernel } from '../onnx/kernels.js';
import { fitBuiltin, type BuiltinParams } from './builtin-fit.js';
import { BuiltinEncoder } from './builtin-encoder.js';
import { BUILTIN_MANIFEST, builtinOnnx, fingerprintOf, loadBuiltin, saveBuiltin, type LoadedBuiltin } from './builtin-model.js';
import type { Encoder } from './encoder.js';
import { TransformersEncoder } from './transformers-encoder.js';

export interface OpenEncoderOptions {
  /** Folder to resolve a relative model path against. */
  baseDir: string;
  seed: number;
  /** Texts to fit the built-in encoder on (called only when a fit is needed). */
  sample: () => Promise<string[]>;
  /** Where a freshly fitted built-in model is saved (so later runs can reuse it). */
  saveDir?: string;
  notice: (msg: string) => void;
}

export function builtinParams(cfg: EmbedConfig, seed: number): BuiltinParams {
  const b = cfg.builtin;
  return { buckets: b.buckets, dim: b.dim, minN: b.min_n, maxN: b.max_n, lowercase: b.lowercase, words: b.words, seed };
}

/** Fits the built-in encoder on `texts` and returns it in its saved form (ONNX bytes + params). */
export async function fitBuiltinModel(texts: string[], params: BuiltinParams): Promise<LoadedBuiltin> {
  const dense = await MatMulKernel.open('cpu');
  const sparse = await SparseKernel.open('cpu');
  try {
    const model = await fitBuiltin(texts, params, { dense, sparse });
    const onnx = builtinOnnx(model);
    return { params, onnx, fingerprint: fingerprintOf(onnx, params), fittedOn: model.fittedOn };
  } finally {
    await dense.release();
    await sparse.release();
  }
}

/**
 * The encoder a config asks for: `builtin` fits one to the corpus sample (and saves it), a directory
 * with winnow-encoder.json reloads a saved built-in encoder, any other directory or a Hub id goes to
 * the Hugging Face backend.
 */
export async function openEncoder(cfg: EmbedConfig, opts: OpenEncoderOptions): Promise<Encoder> {
  const session = { device: cfg.device, threads: cfg.threads || undefined, notice: opts.notice };
  if (cfg.model === 'builtin') {
    const loaded = await fitBuiltinModel(await opts.sample(), builtinParams(cfg, opts.seed));
    if (opts.saveDir) await saveBuiltin(opts.saveDir, loaded);
    return BuiltinEncoder.open(loaded, session);
  }
  const dir = path.resolve(opts.baseDir, cfg.model);
  if (existsSync(path.join(dir, BUILTIN_MANIFEST))) return BuiltinEncoder.open(await loadBuiltin(dir), session);
  return TransformersEncoder.open({
    model: existsSync(dir) ? dir : cfg.model,
    allowDownload: cfg.allow_download,
    device: cfg.device,
    pooling: cfg.transformers.pooling,
    normalize: cfg.transformers.normalize,
    maxLength: cfg.transformers.max_length,
    threads: cfg.threads || undefined,
    notice: opts.notice,
  });
}
