import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { fixture, tempDir, writeJsonl } from '../helpers.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

describe('winnow as a library: import { run, query, plan } from "winnow"', () => {
  it('another TypeScript project type-checks against the package exports and runs a pipeline through them', () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'node_modules'));
    // As `npm i winnow` would place it (a link to this checkout, built by pretest).
    symlinkSync(ROOT, path.join(dir, 'node_modules', 'winnow'), 'dir');
    writeJsonl(
      path.join(dir, 'yor.jsonl'),
      fixture('sib200/yor_Latn')
        .slice(0, 80)
        .map((r) => ({ id: r.id, text: r.text })),
    );
    const source = `import { run, query, plan, ConfigError, type RunSummary, type Plan } from 'winnow';
const budget: Plan = plan({ params: 1e8, rule: 'chinchilla' });
const summary: RunSummary = await run({
  pipeline: { sources: [{ name: 'yor', path: 'yor.jsonl', columns: { id: 'id' } }], stages: { embed: { builtin: { dim: 32 } } } },
  baseDir: ${JSON.stringify(dir)},
  out: ${JSON.stringify(path.join(dir, 'out'))},
  workers: 1,
});
const rows = await query<{ n: number }>(summary.outDir, "SELECT count(*)::INT AS n FROM samples WHERE status = 'selected'");
let refused = '';
try {
  await run({ pipeline: { sources: [], stagez: {} }, out: ${JSON.stringify(path.join(dir, 'bad'))} });
} catch (err) {
  if (err instanceof ConfigError) refused = err.message;
}
console.log(JSON.stringify({ tokens: budget.tokens, selected: summary.counts.selected, n: rows[0]?.n, refused }));
`;
    const file = path.join(dir, 'consumer.mts');
    writeFileSync(file, source);
    const options: ts.CompilerOptions = {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    };
    const program = ts.createProgram([file], options);
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(path.join(dir, 'consumer.mjs'), js);
    const out = JSON.parse(
      execFileSync(process.execPath, [path.join(dir, 'consumer.mjs')], { cwd: dir, encoding: 'utf8' })
        .trim()
        .split('\n')
        .at(-1)!,
    ) as { tokens: number; selected: number; n: number; refused: string };
    expect(out.tokens).toBe(2e9);
    expect(out.selected).toBe(80);
    expect(out.n).toBe(80);
    expect(out.refused).toMatch(/stagez/);
  }, 120_000);
});
