/**
 * One interface over every embedding backend: the built-in encoder and Hugging Face ONNX models both
 * run on onnxruntime, on the same execution provider.
 */
export interface Encoder {
  readonly kind: 'builtin' | 'transformers';
  readonly dim: number;
  /** Identifies the model's exact weights and settings; part of the embedding cache key. */
  readonly fingerprint: string;
  readonly provider: 'cpu' | 'cuda';
  readonly description: string;
  /** Cheap length estimate per text, used to batch texts of similar length together. */
  lengths(texts: readonly string[]): Int32Array;
  /** Embeddings of `texts`, (n x dim) row-major, L2-normalized unless configured otherwise. */
  encode(texts: readonly string[]): Promise<Float32Array>;
  close(): Promise<void>;
}
