import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { getLIDModel } from 'fasttext.wasm.js';
import { ConfigError } from '../core/errors.js';
import type { Candidate } from './ensemble.js';

/**
 * A fastText language-ID model (.bin or .ftz: GlotLID, OpenLID, lid.176) run in WebAssembly
 * through fasttext.wasm.js. Labels are `__label__yor_Latn` (GlotLID, OpenLID: ISO 639-3 and script)
 * or `__label__yo` (lid.176: Wikipedia codes, mapped to ISO 639-3 by the package).
 */
export interface FastTextIdentifier {
  path: string;
  /** Candidates best first, with the model's probabilities; `script` when the label names one. */
  predict(text: string, k: number): (Candidate & { script: string | null })[];
}

/** lid.176.ftz as shipped by fasttext.wasm.js (CC BY-SA 3.0, Facebook): a model to test with offline. */
export const BUNDLED_LID176 = path.join(path.dirname(new URL(import.meta.resolve('fasttext.wasm.js')).pathname), '..', 'models', 'language-identification', 'assets', 'lid.176.ftz');

const loaded = new Map<string, Promise<FastTextIdentifier>>();

/** `langid.model` -> the fastText model path it names (resolved against `baseDir`), or null. */
export function fastTextPath(model: string, baseDir: string): string | null {
  const m = /^(?:builtin\+)?fasttext:(.+)$/.exec(model);
  return m ? path.resolve(baseDir, m[1]!) : null;
}

/** Loads a model once per process; a missing or unreadable file is a ConfigError naming the key. */
export function loadFastText(file: string): Promise<FastTextIdentifier> {
  let p = loaded.get(file);
  if (!p) {
    p = open(file);
    loaded.set(file, p);
    p.catch(() => loaded.delete(file));
  }
  return p;
}

async function open(file: string): Promise<FastTextIdentifier> {
  if (!existsSync(file) || !statSync(file).isFile())
    throw new ConfigError(`stages.langid.model: no fastText model at ${file}; give the path of a .bin or .ftz file (GlotLID: model.bin from its Hugging Face page)`);
  const lid = await getLIDModel({ modelPath: pathToFileURL(file).href });
  try {
    await lid.load();
  } catch (err) {
    throw new ConfigError(`stages.langid.model: ${file} is not a fastText model fastText can load (${(err as Error).message ?? err})`);
  }
  const model = lid.model!;
  const format = (lid.constructor as unknown as { formatLang(raw: string): { alpha3: string } }).formatLang;
  const labels = new Map<string, { lang: string; script: string | null }>();
  const label = (raw: string): { lang: string; script: string | null } => {
    let l = labels.get(raw);
    if (!l) {
      const code = raw.replace(/^__label__/, '');
      const m = /^([a-z]{2,3})_([A-Z][a-z]{3})$/.exec(code);
      l = m ? { lang: m[1]!, script: m[2]! } : { lang: safeAlpha3(format, code), script: null };
      labels.set(raw, l);
    }
    return l;
  };
  return {
    path: file,
    predict(text, k) {
      // fastText reads one line; newlines would end the input early.
      const v = model.predict(text.replace(/\n/g, ' '), k, 0);
      const out: (Candidate & { script: string | null })[] = [];
      for (let i = 0; i < v.size(); i++) {
        const [p, raw] = v.get(i) as [number, string];
        out.push({ ...label(raw), p });
      }
      (v as { delete?: () => void }).delete?.();
      return out;
    },
  };
}

function safeAlpha3(format: (raw: string) => { alpha3: string }, code: string): string {
  try {
    return format(code).alpha3 || code;
  } catch {
    return code;
  }
}
