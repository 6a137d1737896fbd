import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { rng } from '../src/math/random.js';
import type { Pool } from '../src/select/pool.js';
import { PROJECT_ROOT } from '../src/util/versions.js';

/** Real sentences from the shipped SIB-200 fixtures (12 languages), the raw material of benchmarks. */
export function fixtureSentences(): { lang: string; text: string }[] {
  const dir = path.join(PROJECT_ROOT, 'test', 'fixtures', 'sib200');
  const out: { lang: string; text: string }[] = [];
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl.gz'))
    .sort()) {
    for (const line of gunzipSync(readFileSync(path.join(dir, f)))
      .toString('utf8')
      .split('\n')) {
      if (line) {
        const r = JSON.parse(line) as { lang: string; text: string };
        out.push({ lang: r.lang, text: r.text });
      }
    }
  }
  return out;
}

/**
 * Writes `rows` short documents: random word windows (4-24 words) of real sentences, so texts look
 * like tweets or captions in 12 languages. Returns the file size in bytes.
 */
export async function writeShortTextCorpus(file: string, rows: number, seed = 1): Promise<number> {
  const sentences = fixtureSentences().map((s) => ({ lang: s.lang, words: s.text.split(' ') }));
  const rand = rng(seed);
  return writeJsonlRows(file, rows, (i) => {
    const s = sentences[Math.floor(rand() * sentences.length)]!;
    const len = 4 + Math.floor(rand() * 21);
    const start = Math.floor(rand() * Math.max(1, s.words.length - len));
    return { id: `doc-${i}`, lang: s.lang, text: s.words.slice(start, start + len).join(' ') };
  });
}

/** Writes `rows` JSON Lines made by `row(i)`, a megabyte at a time; returns the file size in bytes. */
async function writeJsonlRows(file: string, rows: number, row: (i: number) => unknown): Promise<number> {
  const out = createWriteStream(file);
  let bytes = 0;
  let buf = '';
  for (let i = 0; i < rows; i++) {
    buf += JSON.stringify(row(i)) + '\n';
    if (buf.length > 1 << 20) {
      bytes += Buffer.byteLength(buf);
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  bytes += Buffer.byteLength(buf);
  out.end(buf);
  await once(out, 'finish');
  return bytes;
}

/**
 * Writes `rows` short documents that are nearly all distinct (so dedup keeps them and every later
 * stage sees the whole lake): random walks of 6-30 words over each language's word bigrams in the
 * SIB-200 fixtures, a sentence-like text per row in 12 languages. Returns the file size in bytes.
 */
export async function writeDistinctTextCorpus(file: string, rows: number, seed = 1): Promise<number> {
  const langs = bigramChains(fixtureSentences());
  const rand = rng(seed);
  return writeJsonlRows(file, rows, (i) => {
    const { lang, starts, next } = langs[Math.floor(rand() * langs.length)]!;
    const len = 6 + Math.floor(rand() * 25);
    let w = starts[Math.floor(rand() * starts.length)]!;
    const words = [w];
    while (words.length < len) {
      const after = next.get(w);
      w = after ? after[Math.floor(rand() * after.length)]! : starts[Math.floor(rand() * starts.length)]!;
      words.push(w);
    }
    return { id: `doc-${i}`, lang, text: words.join(' ') };
  });
}

function bigramChains(sentences: { lang: string; text: string }[]): { lang: string; starts: string[]; next: Map<string, string[]> }[] {
  const by = new Map<string, { lang: string; starts: string[]; next: Map<string, string[]> }>();
  for (const { lang, text } of sentences) {
    const chain = by.get(lang) ?? { lang, starts: [], next: new Map<string, string[]>() };
    by.set(lang, chain);
    const words = text.split(' ').filter((w) => w.length > 0);
    if (words.length > 0) chain.starts.push(words[0]!);
    for (let k = 0; k + 1 < words.length; k++) {
      const list = chain.next.get(words[k]!) ?? [];
      list.push(words[k + 1]!);
      chain.next.set(words[k]!, list);
    }
  }
  return [...by.values()].sort((a, b) => (a.lang < b.lang ? -1 : 1));
}

/**
 * A seeded pool of unit vectors: `clusters` random centres in d dimensions, each row a centre plus
 * Gaussian noise of about the centre's norm, then L2-normalized; a row's class is its centre's index
 * modulo `classes`. Stands in for embeddings at sizes no fixture reaches.
 */
export function mixturePool(n: number, d: number, clusters: number, classes: number, seed: number): { pool: Pool; labels: Int32Array } {
  const rand = rng(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const centres = Float32Array.from({ length: clusters * d }, gauss);
  const x = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rand() * clusters);
    labels[i] = c % classes;
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const v = centres[c * d + j]! + gauss();
      x[i * d + j] = v;
      norm += v * v;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let j = 0; j < d; j++) x[i * d + j]! *= inv;
  }
  return { pool: { x, n, d }, labels };
}
