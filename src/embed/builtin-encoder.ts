import { openSession, ort, type Device } from '../onnx/runtime.js';
import type { LoadedBuiltin } from './builtin-model.js';
import type { Encoder } from './encoder.js';
import { NgramCounter, sublinearTf } from './ngram-hash.js';

/** The built-in encoder at inference: n-gram features in JS, the projection and norm in onnxruntime. */
export class BuiltinEncoder implements Encoder {
  readonly kind = 'builtin' as const;
  private readonly counter: NgramCounter;
  private constructor(
    private readonly model: LoadedBuiltin,
    private readonly session: ort.InferenceSession,
    readonly provider: 'cpu' | 'cuda',
  ) {
    this.counter = new NgramCounter(model.params);
  }

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

  /**
   * The padded model inputs for texts of one width class (exposed so benchmarks can time the bare
   * session). Every row is padded to `width`, and a lone text gets an empty companion row.
   */
  features(texts: readonly string[], width?: number): { ids: ort.Tensor; tf: ort.Tensor } {
    const feats = texts.map((t) => this.featurize(t));
    const w = width ?? widthClass(Math.max(1, ...feats.map((f) => f.ids.length)));
    return this.pack(feats, w);
  }

  private featurize(text: string): { ids: Int32Array; tf: Float32Array } {
    const { ids, counts } = this.counter.count(text);
    return { ids, tf: sublinearTf(counts) };
  }

  private pack(feats: { ids: Int32Array; tf: Float32Array }[], width: number): { ids: ort.Tensor; tf: ort.Tensor } {
    const rows = Math.max(2, feats.length);
    const ids = new Int32Array(rows * width);
    const tf = new Float32Array(rows * width);
    feats.forEach((f, r) => {
      ids.set(f.ids, r * width);
      tf.set(f.tf, r * width);
    });
    return { ids: new ort.Tensor('int32', ids, [rows, width]), tf: new ort.Tensor('float32', tf, [rows, width]) };
  }

  /**
   * onnxruntime's ReduceSum adds in an order that depends on the padded width (and differs for a
   * batch of one), so a text is always run at the width class of its own feature count, with at
   * least two rows: then its vector is bit-identical whatever batch it lands in, and a cached vector
   * equals a fresh one.
   */
  async encode(texts: readonly string[]): Promise<Float32Array> {
    const d = this.dim;
    const out = new Float32Array(texts.length * d);
    const feats = texts.map((t) => this.featurize(t));
    const groups = new Map<number, number[]>();
    feats.forEach((f, i) => {
      const w = widthClass(Math.max(1, f.ids.length));
      const g = groups.get(w);
      if (g) g.push(i);
      else groups.set(w, [i]);
    });
    for (const [width, members] of groups) {
      const result = await this.session.run(
        this.pack(
          members.map((i) => feats[i]!),
          width,
        ),
      );
      const data = result.embedding!.data as Float32Array;
      members.forEach((i, r) => out.set(data.subarray(r * d, r * d + d), i * d));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Padded widths: powers of two and 1.5 times powers of two from 32, so padding wastes at most a third. */
export function widthClass(n: number): number {
  let w = 32;
  for (;;) {
    if (n <= w) return w;
    if (n <= w * 1.5) return w * 1.5;
    w *= 2;
  }
}
