import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BuiltinEncoder } from '../../src/embed/builtin-encoder.js';
import { DEFAULT_BUILTIN, encodeReference, fitBuiltin, type BuiltinParams } from '../../src/embed/builtin-fit.js';
import { builtinOnnx, fingerprintOf, loadBuiltin, saveBuiltin } from '../../src/embed/builtin-model.js';
import { fitBuiltinModel } from '../../src/embed/open-encoder.js';
import { MatMulKernel, SparseKernel } from '../../src/onnx/kernels.js';
import { NormalizeSchema } from '../../src/config/schema.js';
import { normalizeText } from '../../src/stages/normalize.js';
import { fixture, queryStore, runCli, tempDir, writeJsonl } from '../helpers.js';

const params: BuiltinParams = { ...DEFAULT_BUILTIN, seed: 3 };

describe('built-in encoder', () => {
  const texts = fixture('sib200/ibo_Latn').map((r) => r.text);

  it('the ONNX graph computes the same vectors as the TypeScript reference (max abs diff < 1e-5)', async () => {
    const dense = await MatMulKernel.open('cpu');
    const sparse = await SparseKernel.open('cpu');
    const model = await fitBuiltin(texts, params, { dense, sparse });
    const onnx = builtinOnnx(model);
    const encoder = await BuiltinEncoder.open({ params, onnx, fingerprint: fingerprintOf(onnx, params), fittedOn: model.fittedOn }, { device: 'cpu' });
    const sample = [...texts.slice(0, 200), 'a', '', '  ', 'ẹ̀ ọ̀ ṣ', '漢字とかな', 'x'.repeat(3000)];
    const got = await encoder.encode(sample);
    let maxDiff = 0;
    sample.forEach((t, i) => {
      const ref = encodeReference(model, t);
      for (let c = 0; c < params.dim; c++) maxDiff = Math.max(maxDiff, Math.abs(ref[c]! - got[i * params.dim + c]!));
    });
    console.log(`built-in encoder: ONNX vs TypeScript reference max abs diff ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThan(1e-5);
    // Unit length, except texts with no characters at all, which embed to zero.
    const norm = (i: number) => Math.hypot(...got.subarray(i * params.dim, (i + 1) * params.dim));
    expect(norm(0)).toBeCloseTo(1, 5);
    expect(norm(201)).toBe(0);
    // Bit-identical whatever batch a text lands in (alone, or among others of any length).
    for (const i of [0, 7, 150, 203, 205]) {
      expect(await encoder.encode([sample[i]!])).toEqual(got.slice(i * params.dim, (i + 1) * params.dim));
    }
    const shuffled = [...sample.slice(100, 206)].reverse();
    const again = await encoder.encode(shuffled);
    expect(again.slice(0, params.dim)).toEqual(got.slice(205 * params.dim, 206 * params.dim));
    await encoder.close();
    await dense.release();
    await sparse.release();
  });

  it('fitting is deterministic for a seed, and another seed gives another model', async () => {
    const a = await fitBuiltinModel(texts.slice(0, 400), params);
    const b = await fitBuiltinModel(texts.slice(0, 400), params);
    const c = await fitBuiltinModel(texts.slice(0, 400), { ...params, seed: 4 });
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(Buffer.from(a.onnx).equals(Buffer.from(b.onnx))).toBe(true);
    expect(c.fingerprint).not.toBe(a.fingerprint);
  });

  it('a saved model reloaded in a new process (winnow embed --model DIR) gives identical vectors', async () => {
    const dir = tempDir();
    const modelDir = path.join(dir, 'model');
    const loaded = await fitBuiltinModel(texts, params);
    await saveBuiltin(modelDir, loaded);
    const reloaded = await loadBuiltin(modelDir);
    expect(reloaded.fingerprint).toBe(loaded.fingerprint);
    const sample = texts.slice(0, 150);
    const here = await BuiltinEncoder.open(loaded, { device: 'cpu' });
    // The run normalizes text (NFC, whitespace) before embedding; so does the expectation.
    const expected = await here.encode(sample.map((t) => normalizeText(t, NormalizeSchema.parse({}))));
    await here.close();
    writeJsonl(
      path.join(dir, 'in.jsonl'),
      sample.map((text, i) => ({ id: `s${i}`, text })),
    );
    const out = path.join(dir, 'emb.parquet');
    const res = await runCli(['embed', '--input', path.join(dir, 'in.jsonl'), '--id-column', 'id', '--model', modelDir, '--device', 'cpu', '--no-cache', '--out', out]);
    expect(res.code).toBe(0);
    const rows = await queryStore<{ id: string; embedding: number[] }>(':memory:', `SELECT id, embedding FROM '${out}' ORDER BY id`);
    expect(rows).toHaveLength(150);
    const meta = await queryStore<{ k: string; v: string }>(':memory:', `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${out}')`);
    expect(meta.find((m) => m.k === 'winnow_model_fingerprint')!.v).toBe(loaded.fingerprint);
    for (const r of rows) {
      const i = Number(r.id.slice(1));
      const want = Array.from(expected.subarray(i * params.dim, (i + 1) * params.dim));
      expect(Float32Array.from(r.embedding)).toEqual(Float32Array.from(want));
    }
  });

  it('a tampered model folder is refused with a clear error', async () => {
    const dir = tempDir();
    const loaded = await fitBuiltinModel(texts.slice(0, 100), params);
    await saveBuiltin(dir, loaded);
    writeFileSync(path.join(dir, 'model.onnx'), Buffer.from(loaded.onnx).subarray(0, 1000));
    await expect(loadBuiltin(dir)).rejects.toThrow(/does not match the fingerprint/);
  });
});
