import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { BuiltinEncoder } from '../src/embed/builtin-encoder.js';
import { DEFAULT_BUILTIN } from '../src/embed/builtin-fit.js';
import { fitBuiltinModel } from '../src/embed/open-encoder.js';
import { TransformersEncoder } from '../src/embed/transformers-encoder.js';
import { fusePooling, POOLED_OUTPUT } from '../src/embed/fused-pooling.js';
import { builtinNearDupAuc, builtinProbeAccuracy } from './eval/embedding-quality.js';
import { openSession, ort } from '../src/onnx/runtime.js';
import { PROJECT_ROOT } from '../src/util/versions.js';
import { mapConcurrent } from '../src/stages/concurrency.js';
import { fixtureSentences } from './corpus.js';
import { fmt, table, writeSection } from './report.js';
import { writeTinyBert } from './tiny-bert.js';

async function* each<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

/** Texts sorted by length and cut into batches, as the embed stage does inside a window. */
function batchesOf(texts: string[], size: number): string[][] {
  const sorted = [...texts].sort((a, b) => a.length - b.length);
  const out: string[][] = [];
  for (let i = 0; i < sorted.length; i += size) out.push(sorted.slice(i, i + size));
  return out;
}

/** Probe accuracy on the 12 SIB-200 fixture languages and the near-duplicate AUC, as the tests measure them. */
async function quality(): Promise<{ rows: (string | number)[][]; mean: number; auc: number }> {
  const dir = path.join(PROJECT_ROOT, 'test', 'fixtures', 'sib200');
  const read = (f: string) =>
    gunzipSync(readFileSync(f))
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id: string; text: string; label: string; split: string });
  const rows: (string | number)[][] = [];
  let sum = 0;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl.gz'))
    .sort();
  for (const f of files) {
    const acc = await builtinProbeAccuracy(read(path.join(dir, f)));
    sum += acc;
    rows.push([f.replace('.jsonl.gz', ''), fmt(acc, 3)]);
  }
  const nd = path.join(PROJECT_ROOT, 'test', 'fixtures', 'neardup-sentences');
  const docs = new Map(read(path.join(nd, 'docs.jsonl.gz')).map((d) => [d.id, d.text]));
  const { auc } = await builtinNearDupAuc(docs, read(path.join(nd, 'pairs.jsonl.gz')) as never);
  return { rows, mean: sum / files.length, auc };
}

export async function benchEmbed(): Promise<void> {
  const q = await quality();
  const sentences = fixtureSentences().map((s) => s.text);
  const tokens = sentences.reduce((n, s) => n + s.split(/\s+/).length, 0);
  console.log(`embed: ${fmt(sentences.length)} SIB-200 sentences, ${fmt(tokens)} whitespace tokens`);

  // Built-in encoder: fit, then encode through the same path as the embed stage.
  const t0 = performance.now();
  const model = await fitBuiltinModel(sentences, { ...DEFAULT_BUILTIN, seed: 1 });
  const fitSeconds = (performance.now() - t0) / 1000;
  const builtin = await BuiltinEncoder.open(model, { device: 'cpu' });
  const bBatches = batchesOf(sentences, 64);
  await builtin.encode(bBatches[0]!);
  const t1 = performance.now();
  for await (const _ of mapConcurrent(each(bBatches), (b) => builtin.encode(b), 2)) void _;
  const encodeSeconds = (performance.now() - t1) / 1000;
  await builtin.close();

  // Tiny BERT-shaped model: the pipeline's encode (tokenize, run, pool, in flight 2) against a bare
  // InferenceSession.run loop over the same pre-tokenized batches, in this process.
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'winnow-bench-')), 'tiny-bert');
  await writeTinyBert(dir, sentences.slice(0, 2000), { hidden: 128, vocab: 2000 });
  const enc = await TransformersEncoder.open({ model: dir, allowDownload: false, device: 'cpu', pooling: 'mean', normalize: true, maxLength: 128 });
  const hf = await import('@huggingface/transformers');
  const tok = await hf.AutoTokenizer.from_pretrained(path.basename(dir));
  const tBatches = batchesOf(sentences, 32);
  const feeds = tBatches.map((b) => {
    const t = tok(b, { padding: true, truncation: true, max_length: 128 }) as unknown as Record<string, { data: BigInt64Array; dims: number[] }>;
    return Object.fromEntries(['input_ids', 'attention_mask', 'token_type_ids'].map((k) => [k, new ort.Tensor('int64', t[k]!.data, t[k]!.dims)]));
  });
  const { session } = await openSession(path.join(dir, 'onnx', 'model.onnx'), { device: 'cpu' });
  const tokenized = tBatches.map((b) => enc.tokenize(b));
  // The same model with pooling fused into its graph, run bare (one batch at a time, pooled output only).
  const fusedBytes = fusePooling(readFileSync(path.join(dir, 'onnx', 'model.onnx')), 'last_hidden_state', 'attention_mask', { pooling: 'mean', normalize: true, dim: 128 });
  const { session: fusedSession } = await openSession(fusedBytes, { device: 'cpu' });
  const rounds = 3;
  let bare = Infinity;
  let bareFused = Infinity;
  let plumbing = Infinity;
  let endToEnd = Infinity;
  // Alternate the variants so machine noise hits all alike; keep the best of each.
  for (let r = 0; r < rounds; r++) {
    const a = performance.now();
    for (const f of feeds) await session.run(f);
    bare = Math.min(bare, (performance.now() - a) / 1000);
    const a2 = performance.now();
    for (const f of feeds) await fusedSession.run(f, [POOLED_OUTPUT]);
    bareFused = Math.min(bareFused, (performance.now() - a2) / 1000);
    const b = performance.now();
    for await (const _ of mapConcurrent(each(tokenized), (t) => enc.embedTokens(t), 2)) void _;
    plumbing = Math.min(plumbing, (performance.now() - b) / 1000);
    const c = performance.now();
    for await (const _ of mapConcurrent(each(tBatches), (batch) => enc.encode(batch), 2)) void _;
    endToEnd = Math.min(endToEnd, (performance.now() - c) / 1000);
  }
  await enc.close();
  await session.release();
  await fusedSession.release();

  const n = sentences.length;
  writeSection(
    'embed',
    `## Embed: built-in encoder and the Hugging Face backend

${fmt(n)} SIB-200 sentences (12 languages, ${fmt(tokens)} whitespace tokens), CPU, batch 64 (built-in) / 32
(transformers), two batches in flight, texts sorted by length as in the embed stage.

${table(
  ['encoder', 'fit s', 'encode s', 'sentences/s', 'tokens/s'],
  [
    ['built-in (char 1-5-grams + words, 65,536 buckets, dim 256)', fmt(fitSeconds, 1), fmt(encodeSeconds, 2), fmt(n / encodeSeconds), fmt(tokens / encodeSeconds)],
    ['tiny BERT (hidden 128), bare InferenceSession.run loop on pre-tokenized batches', '-', fmt(bare, 2), fmt(n / bare), fmt(tokens / bare)],
    ['tiny BERT with pooling fused into the graph, bare run loop (pooled output only)', '-', fmt(bareFused, 2), fmt(n / bareFused), fmt(tokens / bareFused)],
    ['tiny BERT, winnow pipeline on the same pre-tokenized batches (queue, 2 in flight, fused pooling, norm)', '-', fmt(plumbing, 2), fmt(n / plumbing), fmt(tokens / plumbing)],
    ['tiny BERT, winnow pipeline end to end (+ transformers.js tokenizer)', '-', fmt(endToEnd, 2), fmt(n / endToEnd), fmt(tokens / endToEnd)],
  ],
)}

Built-in target: at least 5,000 sentences/s encoding.

Quality of the built-in encoder (fitted on each language's train split): linear probe (softmax regression)
trained on train, accuracy on test, SIB-200; mean **${fmt(q.mean, 3)}** (target 0.65; a character TF-IDF + SVD-256 +
logistic regression baseline gets 0.67). On neardup-sentences, cosine similarity separates lexical
near-duplicate pairs from neighbouring sentences of the same article with ROC AUC **${fmt(q.auc, 4)}** (target 0.95).

${table(['language', 'probe accuracy'], q.rows)}

Tiny model, pipeline time over bare-loop time on the same batches: **${fmt(plumbing / bare, 2)}x** (target: at most
1.10x); over a bare loop of the fused graph (the model work alone, one batch at a time): ${fmt(plumbing / bareFused, 2)}x.
End to end, tokenization included: ${fmt(endToEnd / bare, 2)}x. Pooling and normalization run inside the model graph
(appended as a protobuf patch), so a batch hands back batch x 128 values instead of batch x tokens x 128 and no
pooling loop runs in JS; with two batches in flight the pipeline also keeps both cores busy. The
transformers.js tokenizer (JS, main thread) now costs more than everything else; a model runs a batch of 32 in
about ${fmt((bare / tBatches.length) * 1000, 1)} ms here.`,
  );
}
