import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';
import { DeviceError, onnxruntimeInfo, type Device } from '../onnx/runtime.js';
import type { Encoder } from './encoder.js';

export interface TransformersOptions {
  /** A local directory in Hugging Face layout, or a Hub id such as "org/model". */
  model: string;
  allowDownload: boolean;
  device: Device;
  pooling: 'mean' | 'cls';
  normalize: boolean;
  maxLength: number;
  threads?: number;
  notice?: (msg: string) => void;
}

type Transformers = typeof import('@huggingface/transformers');

/** Files a local model directory must hold, in Hugging Face layout. */
export function missingModelFiles(dir: string): string[] {
  const missing: string[] = [];
  for (const f of ['config.json', 'tokenizer.json']) if (!existsSync(path.join(dir, f))) missing.push(f);
  const onnxDir = path.join(dir, 'onnx');
  if (!existsSync(onnxDir) || !readdirSync(onnxDir).some((f) => /^model.*\.onnx$/.test(f))) missing.push('onnx/model.onnx');
  return missing;
}

/**
 * A Hugging Face ONNX model through @huggingface/transformers (tokenizer + onnxruntime-node). A local
 * directory loads with remote models disabled; a Hub id downloads only with `allow_download: true`.
 */
export class TransformersEncoder implements Encoder {
  readonly kind = 'transformers' as const;
  private constructor(
    private readonly tokenizer: (texts: string[], o: object) => Record<string, unknown>,
    private readonly model: (inputs: Record<string, unknown>) => Promise<Record<string, { data: Float32Array; dims: number[] }>>,
    private readonly disposeModel: () => Promise<unknown>,
    readonly dim: number,
    readonly fingerprint: string,
    readonly provider: 'cpu' | 'cuda',
    readonly description: string,
    private readonly opts: TransformersOptions,
  ) {}

  static async open(opts: TransformersOptions): Promise<TransformersEncoder> {
    const local = path.resolve(opts.model);
    const isDir = existsSync(local) && statSync(local).isDirectory();
    const hf: Transformers = await import('@huggingface/transformers');
    let id: string;
    let fingerprint: string;
    if (isDir) {
      const missing = missingModelFiles(local);
      if (missing.length > 0) {
        throw new ConfigError(`embed.model: ${opts.model} is not a Hugging Face model directory: missing ${missing.join(', ')}. Export the model to ONNX (e.g. with optimum) so the folder holds config.json, tokenizer.json and onnx/model.onnx.`);
      }
      hf.env.allowRemoteModels = false;
      hf.env.allowLocalModels = true;
      hf.env.localModelPath = path.dirname(local);
      id = path.basename(local);
      fingerprint = fingerprintDir(local, opts);
    } else {
      if (!/^[\w.-]+\/[\w.-]+$/.test(opts.model)) {
        throw new ConfigError(`embed.model: ${opts.model} is neither "builtin", an existing directory, nor a Hugging Face Hub id (org/name).`);
      }
      if (!opts.allowDownload) {
        throw new ConfigError(
          `embed.model: ${opts.model} is not a local directory, and downloading from the Hugging Face Hub is off. Set embed.allow_download: true on a machine with internet access, or give the path of a downloaded model directory.`,
        );
      }
      hf.env.allowRemoteModels = true;
      id = opts.model;
      fingerprint = createHash('sha256').update(`hub:${opts.model}:${opts.pooling}:${opts.normalize}:${opts.maxLength}`).digest('hex').slice(0, 32);
    }
    let provider: 'cpu' | 'cuda' = 'cpu';
    if (opts.device !== 'cpu') {
      const info = onnxruntimeInfo();
      if (info.cudaInstalled) provider = 'cuda';
      else if (opts.device === 'cuda') {
        throw new DeviceError(`device: cuda requested but the CUDA execution provider is not installed (looked for ${info.cudaLibrary}). Run \`npm run setup:gpu\` on a machine with internet and a CUDA 12 driver, or use device: auto.`);
      } else opts.notice?.('device auto: CUDA execution provider not installed (npm run setup:gpu adds it); running on CPU');
    }
    const session_options = opts.threads ? { intraOpNumThreads: opts.threads } : undefined;
    const tokenizer = await hf.AutoTokenizer.from_pretrained(id);
    let model;
    try {
      model = await hf.AutoModel.from_pretrained(id, { device: provider, dtype: 'fp32', session_options } as never);
    } catch (err) {
      if (opts.device === 'auto' && provider === 'cuda') {
        opts.notice?.(`device auto: CUDA failed to load (${(err as Error).message.split('\n')[0]}); running on CPU`);
        provider = 'cpu';
        model = await hf.AutoModel.from_pretrained(id, { device: 'cpu', dtype: 'fp32', session_options } as never);
      } else throw err;
    }
    const config = (model as unknown as { config: { hidden_size?: number; d_model?: number } }).config;
    const dim = config.hidden_size ?? config.d_model;
    if (!dim) throw new ConfigError(`embed.model: ${opts.model}: config.json has no hidden_size`);
    return new TransformersEncoder(
      tokenizer as never,
      model as never,
      () => (model as unknown as { dispose: () => Promise<unknown> }).dispose(),
      dim,
      fingerprint,
      provider,
      `transformers ${isDir ? local : opts.model} (${opts.pooling} pooling${opts.normalize ? ', normalized' : ''}, max ${opts.maxLength} tokens)`,
      opts,
    );
  }

  lengths(texts: readonly string[]): Int32Array {
    return Int32Array.from(texts, (t) => t.length);
  }

  async encode(texts: readonly string[]): Promise<Float32Array> {
    if (texts.length === 0) return new Float32Array(0);
    const inputs = this.tokenizer([...texts], { padding: true, truncation: true, max_length: this.opts.maxLength });
    const out = await this.model(inputs);
    const hidden = out.last_hidden_state ?? Object.values(out)[0]!;
    const [n, seq, h] = hidden.dims as [number, number, number];
    const mask = (inputs.attention_mask as { data: BigInt64Array }).data;
    const result = new Float32Array(n * h);
    for (let i = 0; i < n; i++) {
      const o = i * h;
      if (this.opts.pooling === 'cls') {
        result.set(hidden.data.subarray(i * seq * h, i * seq * h + h), o);
      } else {
        let count = 0;
        for (let t = 0; t < seq; t++) {
          if (mask[i * seq + t] === 0n) continue;
          count++;
          const ho = (i * seq + t) * h;
          for (let c = 0; c < h; c++) result[o + c]! += hidden.data[ho + c]!;
        }
        for (let c = 0; c < h; c++) result[o + c]! /= Math.max(count, 1);
      }
      if (this.opts.normalize) {
        let norm = 0;
        for (let c = 0; c < h; c++) norm += result[o + c]! * result[o + c]!;
        const inv = 1 / Math.max(Math.sqrt(norm), 1e-12);
        for (let c = 0; c < h; c++) result[o + c]! *= inv;
      }
    }
    return result;
  }

  async close(): Promise<void> {
    await this.disposeModel();
  }
}

/** Hash of the weights, tokenizer and pooling settings: a changed file means a new cache key. */
function fingerprintDir(dir: string, opts: TransformersOptions): string {
  const h = createHash('sha256');
  for (const f of ['config.json', 'tokenizer.json']) h.update(readFileSync(path.join(dir, f)));
  const onnxDir = path.join(dir, 'onnx');
  for (const f of readdirSync(onnxDir).filter((f) => f === 'model.onnx')) h.update(readFileSync(path.join(onnxDir, f)));
  h.update(JSON.stringify({ pooling: opts.pooling, normalize: opts.normalize, maxLength: opts.maxLength }));
  return h.digest('hex').slice(0, 32);
}
