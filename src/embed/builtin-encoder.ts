import { openSession, ort, type Device } from '../onnx/runtime.js';
import type { LoadedBuiltin } from './builtin-model.js';
import type { Encoder } from './encoder.js';
import { ngramCounts, sublinearTf } from './ngram-hash.js';

/** The built-in encoder at inference: n-gram features in JS, the projection and norm in onnxruntime. */
export class BuiltinEncoder implements Encoder {
  readonly kind = 'builtin' as const;
  private readonly scratch = new Map<number, number>();
  private constructor(
    private readonly model: LoadedBuiltin,
    private readonly session: ort.InferenceSession,
    readonly provider: 'cpu' | 'cuda',
  ) {}

  static async open(model: LoadedBuiltin, opts: { device: Device; threads?: number; notice?: (m: string) => void }): Promise<BuiltinEncoder> {
    const { session, provider } = await openSession(model.onnx, { device: opts.device, threads: opts.threads, notice: opts.notice });
    return new BuiltinEncoder(model, session, provider);
  }

  get dim(): number {
    return this.model.params.dim;
  }

  get fingerprint(): string {
    return this.model.fingerprint;
  }

  get description(): string {
    const p = this.model.params;
    return `builtin (char ${p.minN}-${p.maxN}-grams${p.words ? ' + words' : ''}, ${p.buckets} buckets, dim ${p.dim}, fitted on ${this.model.fittedOn} texts)`;
  }

  lengths(texts: readonly string[]): Int32Array {
    return Int32Array.from(texts, (t) => t.length);
  }

  /** The padded model inputs for a batch: exposed so benchmarks can time the bare session alone. */
  features(texts: readonly string[]): { ids: ort.Tensor; tf: ort.Tensor } {
    const feats = texts.map((t) => {
      const { ids, counts } = ngramCounts(t, this.model.params, this.scratch);
      return { ids, tf: sublinearTf(counts) };
    });
    let width = 1;
    for (const f of feats) width = Math.max(width, f.ids.length);
    const ids = new BigInt64Array(texts.length * width);
    const tf = new Float32Array(texts.length * width);
    feats.forEach((f, r) => {
      const o = r * width;
      for (let k = 0; k < f.ids.length; k++) ids[o + k] = BigInt(f.ids[k]!);
      tf.set(f.tf, o);
    });
    return { ids: new ort.Tensor('int64', ids, [texts.length, width]), tf: new ort.Tensor('float32', tf, [texts.length, width]) };
  }

  async encode(texts: readonly string[]): Promise<Float32Array> {
    if (texts.length === 0) return new Float32Array(0);
    const out = await this.session.run(this.features(texts));
    return out.embedding!.data as Float32Array;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
