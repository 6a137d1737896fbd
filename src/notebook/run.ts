import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, InputError } from '../core/errors.js';
import { PROJECT_ROOT } from '../util/versions.js';

interface Notebook {
  cells: { cell_type: string; source: string | string[] }[];
}

/**
 * Runs a Jupyter notebook whose code cells are TypeScript (the tslab kernel's format), without
 * Jupyter or Python: the cells are joined in order into one ES module (top-level await and imports
 * work as in the kernel), type-stripped by the TypeScript compiler and run in a child Node process
 * with `env` added. Each cell prints a header first, so a failure points at its cell. Resolves to
 * the exit code; output streams through.
 */
export async function runNotebook(file: string, env: Record<string, string> = {}): Promise<number> {
  let nb: Notebook;
  try {
    nb = JSON.parse(await readFile(file, 'utf8')) as Notebook;
  } catch (err) {
    throw new InputError(`cannot read notebook ${file}: ${(err as Error).message}`);
  }
  const code = nb.cells.filter((c) => c.cell_type === 'code').map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source));
  const body = code.map((src, i) => `console.log(${JSON.stringify(`\n── cell ${i + 1} ──`)});\n${src}\n`).join('\n');
  let ts: typeof import('typescript');
  try {
    ts = (await import('typescript')).default;
  } catch {
    throw new ConfigError('running notebooks needs the TypeScript compiler, a dev dependency of winnow: run npm install typescript where winnow is installed (npm ci in a checkout installs it)');
  }
  const js = ts.transpileModule(body, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }, fileName: path.basename(file) + '.ts' }).outputText;
  // Inside node_modules/.cache so the notebook's imports resolve against winnow's own dependencies.
  const dir = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'winnow-notebooks');
  mkdirSync(dir, { recursive: true });
  const script = path.join(dir, `${path.basename(file, '.ipynb')}-${process.pid}-${Date.now()}.mjs`);
  writeFileSync(script, js);
  try {
    return await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [script], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: 'inherit' });
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    rmSync(script, { force: true });
  }
}
