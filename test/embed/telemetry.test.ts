import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, tempDir } from '../helpers.js';

describe('onnxruntime telemetry', () => {
  it('an embedding run sends nothing and leaves no mat-debug log in /tmp, no device id in the home folder', async () => {
    const dir = tempDir('winnow-telemetry-');
    const home = path.join(dir, 'home');
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CACHE_HOME: path.join(home, '.cache') };
    delete env.ORT_DISABLE_TELEMETRY;
    const child = spawn(process.execPath, [CLI, 'embed', '--input', path.join(ROOT, 'datasets', 'sib200', 'yor_Latn.jsonl'), '--out', path.join(dir, 'e.parquet')], { env, stdio: 'ignore' });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(existsSync(path.join(dir, 'e.parquet'))).toBe(true);
    // onnxruntime's 1DS telemetry writes /tmp/mat-debug-<pid>.log and ~/.cache/Microsoft/... when enabled.
    expect(existsSync(`/tmp/mat-debug-${child.pid}.log`)).toBe(false);
    expect(existsSync(path.join(home, '.cache', 'Microsoft'))).toBe(false);
    expect(existsSync(home) ? readdirSync(home).filter((f) => f !== '.cache') : []).toEqual([]);
  }, 120_000);
});
