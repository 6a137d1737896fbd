import type { Csr } from '../math/sparse.js';
import { DataType, encodeModel, int64Tensor } from './proto.js';
import { openSession, ort, type Device } from './runtime.js';

/**
 * Dense matrix products on onnxruntime (MLAS on CPU, cuBLAS on CUDA): the heavy numeric kernels of
 * fitting, dedup and selection run where the model runs instead of in nested JS loops.
 */
export class MatMulKernel {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async open(device: Device = 'cpu', threads = 0): Promise<MatMulKernel> {
    const model = encodeModel({
      inputs: [
        { name: 'a', elemType: DataType.FLOAT, shape: ['m', 'k'] },
        { name: 'b', elemType: DataType.FLOAT, shape: ['k', 'n'] },
      ],
      outputs: [{ name: 'c', elemType: DataType.FLOAT, shape: ['m', 'n'] }],
      nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
    });
    return new MatMulKernel((await openSession(model, { device, threads })).session);
  }

  /** C (m x n) = A (m x k) B (k x n), all row-major float32. */
  async run(a: Float32Array, m: number, k: number, b: Float32Array, n: number): Promise<Float32Array> {
    if (m === 0 || n === 0) return new Float32Array(m * n);
    const out = await this.session.run({ a: new ort.Tensor('float32', a, [m, k]), b: new ort.Tensor('float32', b, [k, n]) });
    return out.c!.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Sparse (CSR) times dense products as onnxruntime graphs: X M is a Gather of M's rows weighted by
 * X's values (the same graph shape as the built-in encoder). X^T Y is the same product on the
 * transposed matrix. Rows are processed shortest first, in chunks padded to their longest row and
 * sized so the gathered intermediate stays under `maxCells` floats.
 */
export class SparseKernel {
  private constructor(
    private readonly gatherSum: ort.InferenceSession,
    private readonly maxCells: number,
  ) {}

  static async open(device: Device = 'cpu', threads = 0, maxCells = 1 << 23): Promise<SparseKernel> {
    const gather = encodeModel({
      inputs: [
        { name: 'ids', elemType: DataType.INT64, shape: ['n', 'l'] },
        { name: 'w', elemType: DataType.FLOAT, shape: ['n', 'l'] },
        { name: 'm', elemType: DataType.FLOAT, shape: ['u', 'k'] },
      ],
      outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['n', 'k'] }],
      initializers: [int64Tensor('axis1', [1])],
      nodes: [
        { op: 'Gather', inputs: ['m', 'ids'], outputs: ['g'], attrs: { axis: 0 } },
        { op: 'Unsqueeze', inputs: ['w', 'axis1'], outputs: ['w3'] },
        { op: 'MatMul', inputs: ['w3', 'g'], outputs: ['y3'] },
        { op: 'Squeeze', inputs: ['y3', 'axis1'], outputs: ['y'] },
      ],
    });
    return new SparseKernel((await openSession(gather, { device, threads })).session, maxCells);
  }

  /** Y (rows x k) = X M, M (cols x k) row-major. */
  async times(x: Csr, m: Float32Array, k: number): Promise<Float32Array> {
    const y = new Float32Array(x.rows * k);
    const mt = new ort.Tensor('float32', m, [x.cols, k]);
    const len = (r: number): number => x.indptr[r + 1]! - x.indptr[r]!;
    const order = Int32Array.from({ length: x.rows }, (_, i) => i).sort((a, b) => len(a) - len(b));
    let start = 0;
    while (start < x.rows) {
      let end = start;
      let maxLen = 1;
      while (end < x.rows) {
        const l = Math.max(maxLen, len(order[end]!));
        if ((end - start + 1) * l * k > this.maxCells && end > start) break;
        maxLen = l;
        end++;
      }
      const n = end - start;
      const ids = new BigInt64Array(n * maxLen);
      const w = new Float32Array(n * maxLen);
      for (let r = 0; r < n; r++) {
        const row = order[start + r]!;
        const a = x.indptr[row]!;
        for (let p = a; p < x.indptr[row + 1]!; p++) {
          ids[r * maxLen + (p - a)] = BigInt(x.indices[p]!);
          w[r * maxLen + (p - a)] = x.values[p]!;
        }
      }
      const out = await this.gatherSum.run({ ids: new ort.Tensor('int64', ids, [n, maxLen]), w: new ort.Tensor('float32', w, [n, maxLen]), m: mt });
      const data = out.y!.data as Float32Array;
      for (let r = 0; r < n; r++) y.set(data.subarray(r * k, r * k + k), order[start + r]! * k);
      start = end;
    }
    return y;
  }

  async release(): Promise<void> {
    await this.gatherSum.release();
  }
}
