import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';
import { openSession, ort, type Device } from '../onnx/runtime.js';
import type { Encoder } from './encoder.js';
import { fusePooling, POOLED_OUTPUT } from './fused-pooling.js';

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
 * A Hugging Face ONNX model: the tokenizer of @huggingface/transformers, the model on onnxruntime
 * through winnow's own session (same execution-provider handling as the built-in encoder), and
 * pooling plus normalization as a small ONNX graph, so no per-token loop runs in JS. A local
 * directory loads with remote models disabled; a Hub id downloads only with `allow_download: true`.
 */
export class TransformersEncoder implements Encoder {
  readonly kind = 'transformers' as const;
  private constructor(
    private readonly tokenizer: (texts: string[], o: object) => Record<string, { data: BigInt64Array; dims: number[] }>,
    private readonly model: ort.InferenceSession,
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
    let modelDir: string;
    if (isDir) {
      const missing = missingModelFiles(local);
      if (missing.length > 0) {
        throw new ConfigError(
          `embed.model: ${opts.model} is not a Hugging Face model directory: missing ${missing.join(', ')}. Export the model to ONNX (e.g. with optimum) so the folder holds config.json, tokenizer.json and onnx/model.onnx.`,
        );
      }
      hf.env.allowRemoteModels = false;
      hf.env.allowLocalModels = true;
      hf.env.localModelPath = path.dirname(local);
      id = path.basename(local);
      modelDir = local;
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
      // Download config, tokenizer and ONNX weights into the Hugging Face cache, then load from there.
      await hf.AutoModel.from_pretrained(id, { dtype: 'fp32' } as never).then((m) => (m as unknown as { dispose: () => Promise<unknown> }).dispose());
      modelDir = path.join(hf.env.cacheDir ?? '', id);
    }
    const tokenizer = await hf.AutoTokenizer.from_pretrained(id);
    const config = JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8')) as { hidden_size?: number; d_model?: number };
    const dim = config.hidden_size ?? config.d_model;
    if (!dim) throw new ConfigError(`embed.model: ${opts.model}: config.json has no hidden_size`);
    const onnxFile = modelFile(modelDir);
    const session = { device: opts.device, threads: opts.threads, notice: opts.notice };
    const opened = await openFused(onnxFile, dim, opts, session);
    const enc = new TransformersEncoder(
      tokenizer as never,
      opened.session.session,
      dim,
      fingerprintDir(modelDir, onnxFile, opts),
      opened.session.provider,
      `transformers ${isDir ? local : opts.model} (${opts.pooling} pooling${opts.normalize ? ', normalized' : ''}, max ${opts.maxLength} tokens${opened.fused ? ', pooling fused into the graph' : ''})`,
      opts,
    );
    if (opened.fused) await enc.checkFused();
    return enc;
  }

  /** Pooling inside the graph when it matches the JS reference on a probe batch; else JS pooling. */
  private fused = false;

  private async checkFused(): Promise<void> {
    const feeds = this.tokenize(['winnow', 'a somewhat longer sentence, to have padding in the batch']);
    const hiddenName = this.model.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : this.model.outputNames[0]!;
    const out = await this.model.run(this.modelFeeds(feeds), [hiddenName, POOLED_OUTPUT]);
    const hidden = out[hiddenName]!;
    const ref = pool(hidden.data as Float32Array, hidden.dims as number[], feeds.attention_mask!.data as BigInt64Array, this.opts);
    const got = out[POOLED_OUTPUT]!.data as Float32Array;
    let diff = 0;
    for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(ref[i]! - got[i]!));
    this.fused = got.length === ref.length && diff < 1e-4;
    if (!this.fused) this.opts.notice?.(`embed: pooling in the graph differs from the reference by ${diff.toExponential(2)}; pooling in JS instead`);
  }

  private modelFeeds(feeds: Record<string, ort.Tensor>): Record<string, ort.Tensor> {
    return Object.fromEntries(this.model.inputNames.map((n) => [n, feeds[n]!]));
  }

  lengths(texts: readonly string[]): Int32Array {
    return Int32Array.from(texts, (t) => t.length);
  }

  async encode(texts: readonly string[]): Promise<Float32Array> {
    if (texts.length === 0) return new Float32Array(0);
    return this.embedTokens(this.tokenize(texts));
  }

  /** Tokenizer output for a batch (padded, truncated to max_length), as onnxruntime tensors. */
  tokenize(texts: readonly string[]): Record<string, ort.Tensor> {
    const t = this.tokenizer([...texts], { padding: true, truncation: true, max_length: this.opts.maxLength });
    const ids = t.input_ids!;
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.model.inputNames) {
      const src = t[name];
      // BERT-style models want token_type_ids even when the tokenizer omits them: all zeros then.
      feeds[name] = src ? new ort.Tensor('int64', src.data, src.dims) : new ort.Tensor('int64', new BigInt64Array(ids.data.length), ids.dims);
    }
    if (!feeds.attention_mask) feeds.attention_mask = new ort.Tensor('int64', t.attention_mask!.data, t.attention_mask!.dims);
    return feeds;
  }

  /** The model run and pooling on tokenized inputs: the part benchmarks compare with a bare session. */
  async embedTokens(feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
    const modelFeeds = this.modelFeeds(feeds);
    if (this.fused) return (await this.model.run(modelFeeds, [POOLED_OUTPUT]))[POOLED_OUTPUT]!.data as Float32Array;
    const out = await this.model.run(modelFeeds);
    const hidden = out.last_hidden_state ?? out[this.model.outputNames[0]!]!;
    return pool(hidden.data as Float32Array, hidden.dims as number[], feeds.attention_mask!.data as BigInt64Array, this.opts);
  }

  async close(): Promise<void> {
    await this.model.release();
  }
}

/**
 * The session with pooling fused into the model graph (see fused-pooling.ts), or the plain model
 * when it cannot be patched: weights in external data files (which a patched copy could not find),
 * or no `last_hidden_state` output and `attention_mask` input to pool from.
 */
async function openFused(
  onnxFile: string,
  dim: number,
  opts: TransformersOptions,
  session: { device: Device; threads?: number; notice?: (m: string) => void },
): Promise<{ session: Awaited<ReturnType<typeof openSession>>; fused: boolean }> {
  const external = readdirSync(path.dirname(onnxFile)).some((f) => /\.onnx[._]data$|\.data$/.test(f));
  if (!external) {
    try {
      const bytes = fusePooling(readFileSync(onnxFile), 'last_hidden_state', 'attention_mask', { pooling: opts.pooling, normalize: opts.normalize, dim });
      return { session: await openSession(bytes, session), fused: true };
    } catch {
      // Not a standard feature-extraction export: fall through to the plain model and JS pooling.
    }
  }
  return { session: await openSession(onnxFile, session), fused: false };
}

/**
 * Masked mean (or first-token) pooling and optional L2 normalization over [batch, seq, dim] states.
 * The reference for the fused graph, and the path for models that cannot be patched.
 */
export function pool(states: Float32Array, dims: readonly number[], mask: BigInt64Array, opts: { pooling: 'mean' | 'cls'; normalize: boolean }): Float32Array {
  const n = dims[0]!;
  const seq = dims[1]!;
  const h = dims[2]!;
  const result = new Float32Array(n * h);
  const acc = new Float64Array(h);
  for (let i = 0; i < n; i++) {
    acc.fill(0);
    if (opts.pooling === 'cls') {
      for (let c = 0; c < h; c++) acc[c] = states[i * seq * h + c]!;
    } else {
      let count = 0;
      for (let t = 0; t < seq; t++) {
        // Padding sits at the end; one BigInt test per token, none per dimension.
        if (mask[i * seq + t] === 0n) continue;
        count++;
        const row = states.subarray((i * seq + t) * h, (i * seq + t + 1) * h);
        for (let c = 0; c < h; c++) acc[c]! += row[c]!;
      }
      const inv = 1 / Math.max(count, 1);
      for (let c = 0; c < h; c++) acc[c]! *= inv;
    }
    let scale = 1;
    if (opts.normalize) {
      let norm = 0;
      for (let c = 0; c < h; c++) norm += acc[c]! * acc[c]!;
      scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
    }
    const o = i * h;
    for (let c = 0; c < h; c++) result[o + c] = acc[c]! * scale;
  }
  return result;
}

function modelFile(dir: string): string {
  const onnxDir = path.join(dir, 'onnx');
  if (existsSync(path.join(onnxDir, 'model.onnx'))) return path.join(onnxDir, 'model.onnx');
  const any = readdirSync(onnxDir)
    .filter((f) => /^model.*\.onnx$/.test(f))
    .sort()[0];
  if (!any) throw new ConfigError(`embed.model: ${dir} has no onnx/model*.onnx`);
  return path.join(onnxDir, any);
}

/** Hash of the weights, tokenizer and pooling settings: a changed file means a new cache key. */
function fingerprintDir(dir: string, onnxFile: string, opts: TransformersOptions): string {
  const h = createHash('sha256');
  for (const f of ['config.json', 'tokenizer.json']) h.update(readFileSync(path.join(dir, f)));
  h.update(readFileSync(onnxFile));
  h.update(JSON.stringify({ pooling: opts.pooling, normalize: opts.normalize, maxLength: opts.maxLength }));
  return h.digest('hex').slice(0, 32);
}
