import { fitBuiltinModel } from '../../src/embed/open-encoder.js';
import { BuiltinEncoder } from '../../src/embed/builtin-encoder.js';
import { DEFAULT_BUILTIN, type BuiltinParams } from '../../src/embed/builtin-fit.js';
import { accuracy, SoftmaxProbe } from '../../src/select/probe.js';
import { cosine, rocAuc } from './metrics.js';

export interface LabelledRow {
  text: string;
  label: string;
  split: string;
}

/**
 * Embedding quality as a linear probe sees it: fit the built-in encoder on the language's train
 * texts, train a softmax probe on the train embeddings, report accuracy on the test split.
 */
export async function builtinProbeAccuracy(rows: readonly LabelledRow[], params: Partial<BuiltinParams> = {}): Promise<number> {
  const train = rows.filter((r) => r.split === 'train');
  const test = rows.filter((r) => r.split === 'test');
  const full: BuiltinParams = { ...DEFAULT_BUILTIN, seed: 1, ...params };
  const encoder = await BuiltinEncoder.open(
    await fitBuiltinModel(
      train.map((r) => r.text),
      full,
    ),
    { device: 'cpu' },
  );
  try {
    const labels = [...new Set(rows.map((r) => r.label))].sort();
    const xtr = await encoder.encode(train.map((r) => r.text));
    const xte = await encoder.encode(test.map((r) => r.text));
    const ytr = Int32Array.from(train, (r) => labels.indexOf(r.label));
    const yte = Int32Array.from(test, (r) => labels.indexOf(r.label));
    const probe = new SoftmaxProbe().fit(xtr, train.length, encoder.dim, ytr, labels.length);
    return accuracy(probe.predict(xte, test.length), yte);
  } finally {
    await encoder.close();
  }
}

export interface PairRow {
  a: string;
  b: string;
  label: number;
  kind: string;
}

/**
 * Whether cosine similarity separates near-duplicate pairs (label 1, lexical kinds) from pairs of
 * neighbouring sentences of the same article (label 0): ROC AUC over those pairs. The encoder is
 * fitted on the documents themselves, and texts are NFC-normalized first, as in a real run.
 */
export async function builtinNearDupAuc(docs: Map<string, string>, pairs: readonly PairRow[], params: Partial<BuiltinParams> = {}): Promise<{ auc: number; positives: number; negatives: number }> {
  const used = pairs.filter((p) => (p.label === 1 && !p.kind.startsWith('translation')) || p.kind === 'neighbouring_sentence_same_article');
  const full: BuiltinParams = { ...DEFAULT_BUILTIN, seed: 1, ...params };
  const ids = [...docs.keys()];
  const texts = ids.map((id) => docs.get(id)!.normalize('NFC'));
  const encoder = await BuiltinEncoder.open(await fitBuiltinModel(texts, full), { device: 'cpu' });
  try {
    const index = new Map(ids.map((id, i) => [id, i]));
    const emb = await encoder.encode(texts);
    const d = encoder.dim;
    const scores = used.map((p) => cosine(emb, index.get(p.a)! * d, emb, index.get(p.b)! * d, d));
    const labels = used.map((p) => (p.label === 1 ? 1 : 0));
    return { auc: rocAuc(scores, labels), positives: labels.filter((l) => l === 1).length, negatives: labels.filter((l) => l === 0).length };
  } finally {
    await encoder.close();
  }
}
