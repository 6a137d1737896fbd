import path from 'node:path';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import ts from 'typescript';
import { ROOT } from '../helpers.js';

const MODELS = { Job: { type: 'IJob', model: Job }, CronJob: { type: 'ICronJob', model: CronJob } } as const;
export type Kind = keyof typeof MODELS;

/**
 * The Kubernetes API's JSON schema (kubernetes-models: required fields, types, enums, formats) does
 * not reject unknown fields, which is how a typo ships (`completionsMode: Indexed` is silently
 * ignored by an API server without strict validation). The same models' TypeScript types do: an
 * object literal typed as IJob fails excess-property checks at any depth, as `kubectl
 * --validate=strict` would.
 */
function unknownFieldErrors(docs: { kind: Kind; doc: unknown }[]): string[] {
  const file = path.join(ROOT, 'test', 'orchestrators', '__manifests__.ts');
  const imports = `import type { ${Object.values(MODELS)
    .map((m) => m.type)
    .join(', ')} } from 'kubernetes-models/batch/v1';\n`;
  const body = docs.map(({ kind, doc }, i) => `export const m${i}: ${MODELS[kind].type} = ${JSON.stringify(doc, null, 1)};\n`).join('');
  const source = imports + body;
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (f) => f === file || ts.sys.fileExists(f);
  host.readFile = (f) => (f === file ? source : readFile(f));
  host.getSourceFile = (f, lang, ...rest) => (f === file ? ts.createSourceFile(f, source, lang) : getSourceFile(f, lang, ...rest));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? `line ${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
    return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
  });
}

/** Schema errors of Kubernetes batch/v1 objects, each named by document; empty when all are valid. */
export function k8sErrors(docs: { name: string; kind: Kind; doc: unknown }[]): string[] {
  const errors: string[] = [];
  for (const { name, kind, doc } of docs) {
    try {
      new MODELS[kind].model(doc as never).validate();
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
    }
  }
  return errors.concat(unknownFieldErrors(docs));
}
