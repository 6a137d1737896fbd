import os from 'node:os';
import type { Command } from 'commander';
import { defaultCacheDir } from '../../embed/cache-dir.js';
import { MatMulKernel } from '../../onnx/kernels.js';
import { onnxruntimeInfo, openSession, ort } from '../../onnx/runtime.js';
import { DataType, encodeModel } from '../../onnx/proto.js';
import { packageVersions } from '../../util/versions.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('show the execution providers that load here, thread counts and cache locations')
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }) => {
      const report = await diagnose();
      if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else process.stdout.write(formatReport(report));
    });
}

interface Report {
  versions: Record<string, string | null>;
  cpus: number;
  onnxruntime: { version: string; library_dir: string; providers: { name: string; loads: boolean; detail: string }[]; intra_op_threads_default: number };
  caches: { embeddings: string; huggingface: string | null };
}

async function diagnose(): Promise<Report> {
  const info = onnxruntimeInfo();
  const probe = encodeModel({
    inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [1] }],
    outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [1] }],
    nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
  });
  const providers: Report['onnxruntime']['providers'] = [];
  try {
    const k = await MatMulKernel.open('cpu');
    await k.release();
    providers.push({ name: 'cpu', loads: true, detail: 'bundled with onnxruntime-node' });
  } catch (err) {
    providers.push({ name: 'cpu', loads: false, detail: (err as Error).message });
  }
  try {
    const s = await openSession(probe, { device: 'cuda' });
    await s.session.release();
    providers.push({ name: 'cuda', loads: true, detail: info.cudaLibrary });
  } catch (err) {
    providers.push({ name: 'cuda', loads: false, detail: (err as Error).message });
  }
  let hfCache: string | null = null;
  try {
    const hf = await import('@huggingface/transformers');
    hfCache = hf.env.cacheDir;
  } catch {
    hfCache = null;
  }
  return {
    versions: { ...packageVersions(), 'onnxruntime-node': ort.env.versions.node ?? null },
    cpus: os.cpus().length,
    onnxruntime: { version: ort.env.versions.common ?? 'unknown', library_dir: info.dir, providers, intra_op_threads_default: os.cpus().length },
    caches: { embeddings: `${defaultCacheDir()}/embeddings`, huggingface: hfCache },
  };
}

function formatReport(r: Report): string {
  return [
    `winnow ${r.versions.winnow} on Node ${r.versions.node}, ${r.cpus} CPU cores`,
    `onnxruntime ${r.onnxruntime.version} (${r.onnxruntime.library_dir})`,
    'execution providers:',
    ...r.onnxruntime.providers.map((p) => `  ${p.name.padEnd(5)} ${p.loads ? 'loads' : 'does not load'}: ${p.detail}`),
    `threads: onnxruntime uses one intra-op thread per core by default (${r.onnxruntime.intra_op_threads_default}); set stages.embed.threads to change it`,
    `embedding cache: ${r.caches.embeddings} (stages.embed.cache)`,
    `Hugging Face model cache: ${r.caches.huggingface ?? 'unavailable'} (used only with allow_download: true)`,
    '',
  ].join('\n');
}
