import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { EmbedSchema } from '../config/schema.js';
import { InputError } from '../core/errors.js';
import type { Encoder } from '../embed/encoder.js';
import { fitBuiltinModel, openEncoder } from '../embed/open-encoder.js';
import { BuiltinEncoder } from '../embed/builtin-encoder.js';
import { DEFAULT_BUILTIN } from '../embed/builtin-fit.js';
import { OPERATORS, type OperatorName } from '../augment/operators.js';
import { rng } from '../math/random.js';
import type { SimulateData } from './simulate.js';

/** Label-preserving operators for probe training (the ones that keep a text's topic and length). */
const SIM_OPERATORS: OperatorName[] = ['token_dropout', 'token_swap', 'span_delete', 'char_noise'];

/** `perRow` variants of each train text by the built-in operators (strength 0.3), seeded per row. */
function augmentTrain(texts: string[], perRow: number, seed: number): { texts: string[]; parent: Int32Array } {
  const out: string[] = [];
  const parent: number[] = [];
  texts.forEach((t, i) => {
    for (let k = 0; k < perRow; k++) {
      const op = SIM_OPERATORS[(i + k) % SIM_OPERATORS.length]!;
      const v = OPERATORS[op](t, 0.3, rng(seed * 7919 + i * 31 + k));
      if (v !== null) {
        out.push(v);
        parent.push(i);
      }
    }
  });
  return { texts: out, parent: Int32Array.from(parent) };
}

export interface LabelledText {
  text: string;
  label: string;
  split: 'train' | 'test';
}

export interface ColumnNames {
  text: string;
  label: string;
  split: string;
}

/**
 * Reads a labelled JSONL file (plain or .gz) for simulation. Rows of other splits (dev) are skipped;
 * a row that is not a JSON object, or lacks a string text or a label, is an error naming its line,
 * because a silently shrunken evaluation set would make every number wrong.
 */
export async function readLabelledJsonl(file: string, cols: ColumnNames): Promise<LabelledText[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new InputError(`cannot read --data ${file}: ${(err as Error).message}`);
  }
  const text = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  const rows: LabelledText[] = [];
  const lines = text.split('\n');
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln]!.trim();
    if (line === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      throw new InputError(`${file}:${ln + 1}: not valid JSON`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new InputError(`${file}:${ln + 1}: expected a JSON object`);
    const o = obj as Record<string, unknown>;
    const split = o[cols.split];
    if (split !== 'train' && split !== 'test') continue;
    if (typeof o[cols.text] !== 'string') throw new InputError(`${file}:${ln + 1}: "${cols.text}" is missing or not a string (set --text)`);
    const label = o[cols.label];
    if (label === undefined || label === null || typeof label === 'object') throw new InputError(`${file}:${ln + 1}: "${cols.label}" is missing or not a scalar (set --label)`);
    rows.push({ text: (o[cols.text] as string).normalize('NFC'), label: String(label), split });
  }
  const train = rows.filter((r) => r.split === 'train').length;
  if (train === 0 || train === rows.length) throw new InputError(`${file}: simulation needs rows with ${cols.split} = "train" and "test" (found ${train} train, ${rows.length - train} test)`);
  return rows;
}

/**
 * Embeds train and test rows: the built-in encoder is fitted on the train texts only (unlabelled
 * text, as an active learner would have), or a given model directory is used as is.
 */
export async function embedForSimulation(
  rows: LabelledText[],
  opts: { model?: string; seed?: number; baseDir?: string; augment?: number } = {},
): Promise<SimulateData & { labelNames: string[]; encoder: string }> {
  const train = rows.filter((r) => r.split === 'train');
  const test = rows.filter((r) => r.split === 'test');
  const labelNames = [...new Set(rows.map((r) => r.label))].sort();
  const model = opts.model ?? 'builtin';
  let encoder: Encoder;
  if (model === 'builtin')
    encoder = await BuiltinEncoder.open(
      await fitBuiltinModel(
        train.map((r) => r.text),
        { ...DEFAULT_BUILTIN, seed: opts.seed ?? 1 },
      ),
      { device: 'cpu' },
    );
  else
    encoder = await openEncoder(EmbedSchema.parse({ model, device: 'auto' }), {
      baseDir: opts.baseDir ?? process.cwd(),
      seed: opts.seed ?? 1,
      sample: async () => [],
      notice: (m) => process.stderr.write(`${m}\n`),
    });
  try {
    const d = encoder.dim;
    const index = new Map(labelNames.map((l, i) => [l, i]));
    const aug = opts.augment
      ? augmentTrain(
          train.map((r) => r.text),
          opts.augment,
          opts.seed ?? 1,
        )
      : null;
    return {
      aug: aug ? { x: await encoder.encode(aug.texts), parent: aug.parent } : undefined,
      train: { x: await encoder.encode(train.map((r) => r.text)), n: train.length, d },
      trainLabels: Int32Array.from(train, (r) => index.get(r.label)!),
      test: { x: await encoder.encode(test.map((r) => r.text)), n: test.length, d },
      testLabels: Int32Array.from(test, (r) => index.get(r.label)!),
      classes: labelNames.length,
      labelNames,
      encoder: encoder.description,
    };
  } finally {
    await encoder.close();
  }
}
