import { existsSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import './no-telemetry.js';
import ort from 'onnxruntime-node';
import { WinnowError } from '../core/errors.js';

export type Device = 'auto' | 'cpu' | 'cuda';

export class DeviceError extends WinnowError {
  constructor(message: string) {
    super(message, 2);
  }
}

export interface SessionOptions {
  device: Device;
  /** Intra-op threads; 0 lets onnxruntime choose (one per core). */
  threads?: number;
  /** Told once when `auto` falls back to the CPU. */
  notice?: (msg: string) => void;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  /** The execution provider the session really runs on. */
  provider: 'cpu' | 'cuda';
}

const require = createRequire(import.meta.url);

/** Where onnxruntime-node keeps its native libraries, and whether the CUDA provider is among them. */
export function onnxruntimeInfo(): { dir: string; cudaLibrary: string; cudaInstalled: boolean } {
  const dir = path.join(path.dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  const cudaLibrary = path.join(dir, 'libonnxruntime_providers_cuda.so');
  return { dir, cudaLibrary, cudaInstalled: existsSync(cudaLibrary) };
}

const CUDA_HELP =
  'the CUDA execution provider is not installed: npm ci skips its download (it comes from outside the npm registry). ' +
  'On a machine with internet access and a CUDA 12 driver run `npm run setup:gpu`, or set device: cpu (or auto).';

let fallbackTold = false;

/**
 * Opens an onnxruntime session on the requested device. `cuda` fails with what is missing and how to
 * install it; `auto` tries CUDA and falls back to the CPU with one line saying why.
 */
export async function openSession(model: Uint8Array | string, opts: SessionOptions): Promise<OpenedSession> {
  const base: ort.InferenceSession.SessionOptions = {
    logSeverityLevel: 3,
    intraOpNumThreads: opts.threads ?? 0,
    graphOptimizationLevel: 'all',
  };
  const create = (providers: string[]): Promise<ort.InferenceSession> =>
    typeof model === 'string' ? ort.InferenceSession.create(model, { ...base, executionProviders: providers }) : ort.InferenceSession.create(model, { ...base, executionProviders: providers });
  if (opts.device === 'cpu') return { session: await create(['cpu']), provider: 'cpu' };
  const info = onnxruntimeInfo();
  if (info.cudaInstalled) {
    try {
      return { session: await create(['cuda']), provider: 'cuda' };
    } catch (err) {
      const why = (err as Error).message.split('\n')[0];
      if (opts.device === 'cuda') throw new DeviceError(`device: cuda requested but the CUDA execution provider failed to load (${why}). Check the CUDA 12 driver and libraries, or use device: auto.`);
      if (!fallbackTold) opts.notice?.(`device auto: CUDA unavailable (${why}); running on CPU`);
      fallbackTold = true;
      return { session: await create(['cpu']), provider: 'cpu' };
    }
  }
  if (opts.device === 'cuda') throw new DeviceError(`device: cuda requested but ${CUDA_HELP} (looked for ${info.cudaLibrary})`);
  if (!fallbackTold) opts.notice?.('device auto: CUDA execution provider not installed (npm run setup:gpu adds it); running on CPU');
  fallbackTold = true;
  return { session: await create(['cpu']), provider: 'cpu' };
}

export { ort };
