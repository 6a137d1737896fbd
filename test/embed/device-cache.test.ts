import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DeviceError, onnxruntimeInfo } from '../../src/onnx/runtime.js';
import { fitBuiltinModel } from '../../src/embed/open-encoder.js';
import { BuiltinEncoder } from '../../src/embed/builtin-encoder.js';
import { DEFAULT_BUILTIN } from '../../src/embed/builtin-fit.js';
import { fixture, runCli, tempDir, writeJsonl } from '../helpers.js';
import { runYaml } from '../backbone/run-helpers.js';

const lin = fixture('sib200/lin_Latn');

describe('devices', () => {
  const cuda = onnxruntimeInfo().cudaInstalled;

  it.runIf(!cuda)('device: cuda without the CUDA provider fails, saying what is missing and how to install it', async () => {
    const model = await fitBuiltinModel(
      lin.slice(0, 100).map((r) => r.text),
      { ...DEFAULT_BUILTIN, dim: 16, seed: 1 },
    );
    const err = await BuiltinEncoder.open(model, { device: 'cuda' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as Error).message).toMatch(/CUDA execution provider is not installed/);
    expect((err as Error).message).toMatch(/npm run setup:gpu/);
  });

  it('device: auto falls back to the CPU with one line saying why, and the run completes', async () => {
    const dir = tempDir();
    writeJsonl(path.join(dir, 'in.jsonl'), lin.slice(0, 200));
    const out = path.join(dir, 'out');
    const res = await runCli(['run', '--input', path.join(dir, 'in.jsonl'), '--out', out]);
    expect(res.code).toBe(0);
    if (!cuda) expect(res.stderr.match(/device auto: CUDA/g)).toHaveLength(1);
    expect(existsSync(path.join(out, 'model', 'model.onnx'))).toBe(true);
  });

  it.runIf(!cuda)('winnow doctor lists the providers that load', async () => {
    const res = await runCli(['doctor', '--json']);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as { onnxruntime: { providers: { name: string; loads: boolean }[] } };
    expect(report.onnxruntime.providers).toEqual([expect.objectContaining({ name: 'cpu', loads: true }), expect.objectContaining({ name: 'cuda', loads: false })]);
  });
});

describe('embedding cache', () => {
  it('a rerun with the same model embeds nothing again, and gives the same vectors', async () => {
    const dir = tempDir();
    writeJsonl(path.join(dir, 'in.jsonl'), [...lin.slice(0, 300), ...lin.slice(0, 20).map((r) => ({ ...r, id: `${r.id}-copy` }))]);
    // Dedup off, so the 20 repeated texts reach the embed stage, which must embed each text once.
    const yaml = `sources:\n  - { name: s, path: in.jsonl, columns: { id: id } }\nstages:\n  dedup: { exact: { enabled: false }, near: { enabled: false } }\n  embed: { cache: ${JSON.stringify(path.join(dir, 'cache'))}, device: cpu }\n`;
    const vectors = 'SELECT id, embedding AS e FROM samples JOIN embeddings USING (uid) ORDER BY uid';
    const embedManifest = (out: string) => JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')).embed;
    const first = await runYaml(dir, yaml);
    const e1 = await first.q<{ id: string; e: number[] }>(vectors);
    // 20 rows repeat earlier texts: 300 distinct texts, each embedded once.
    expect(embedManifest(first.out)).toMatchObject({ texts: 320, distinct_texts: 300, encoded: 300, from_cache: 0 });
    const again = await runYaml(dir, yaml);
    expect(embedManifest(again.out)).toMatchObject({ texts: 320, distinct_texts: 300, encoded: 0, from_cache: 300 });
    const e2 = await again.q<{ id: string; e: number[] }>(vectors);
    expect(e1).toHaveLength(320);
    expect(e2).toEqual(e1);
  });
});
