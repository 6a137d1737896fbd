import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATORS, OPERATOR_NAMES } from '../../src/augment/operators.js';
import { dedupKey } from '../../src/dedup/dedup-key.js';
import { rng } from '../../src/math/random.js';
import { runYaml } from '../backbone/run-helpers.js';
import { fixture, runCli, tempDir, writeJsonl, writePipeline } from '../helpers.js';

const KEY = { stripMarks: true, casefold: true, collapsePunctuation: true };

/** Character 5-gram sets of the dedup key, for true Jaccard. */
function shingles(t: string): Set<string> {
  const k = dedupKey(t, KEY);
  const s = new Set<string>();
  for (let i = 0; i + 5 <= k.length; i++) s.add(k.slice(i, i + 5));
  return s;
}
function jaccard(a: Set<string>, b: Set<string>): number {
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter || 1);
}

const data = (dir: string): string => {
  // SIB-200 Yoruba train sentences, with their topic labels.
  writeJsonl(
    path.join(dir, 'yor.jsonl'),
    fixture('sib200/yor_Latn')
      .filter((r) => r.split === 'train')
      .map((r) => ({ id: r.id, text: r.text, label: r.label })),
  );
  return 'yor.jsonl';
};

function yaml(file: string, seed: number, extra = ''): string {
  return `
seed: ${seed}
sources: [{ name: yor, path: ${file}, columns: { id: id, label: label } }]
stages:
  embed: { builtin: { dim: 64 } }
  budget: { target: { tokens: 90000 } }
  augment:
    enabled: true
${extra}`;
}

describe('operators', () => {
  it('are deterministic for a seed, differ across seeds, and work in any script', () => {
    const texts = ['Ọlọ́run sì wí pé, “Jẹ́ kí omi abẹ́ ọ̀run wọ́ papọ̀ sí ojúkan.” Ó sì rí bẹ́ẹ̀. Àti pé ó dára.', 'ሰላም ለዓለም ነው። ይህ ሁለተኛ ዓረፍተ ነገር ነው። ሦስተኛውም ይኸው።'];
    for (const name of OPERATOR_NAMES.filter((n) => n !== 'concat' && n !== 'span_crop')) {
      for (const t of texts) {
        const a = OPERATORS[name](t, 0.3, rng(5));
        expect(a, `${name}`).not.toBeNull();
        expect(a).not.toBe(t);
        expect(OPERATORS[name](t, 0.3, rng(5))).toBe(a);
      }
    }
    const seeds = new Set([1, 2, 3, 4, 5].map((s) => OPERATORS.token_dropout(texts[0]!, 0.3, rng(s))));
    expect(seeds.size).toBeGreaterThan(2);
    expect(OPERATORS.sentence_reorder('one sentence only', 0.3, rng(1))).toBeNull();
    expect(OPERATORS.concat('a b c', 0.3, rng(1), 'd e')).toBe('a b c d e');
  });
});

describe('augment stage', () => {
  it('fills at most the synthetic share of a budget 3x the pool, honestly and with full provenance', async () => {
    const dir = tempDir();
    const r = await runYaml(dir, yaml(data(dir), 5));
    const m = JSON.parse(readFileSync(path.join(r.out, 'manifest.json'), 'utf8'));
    const a = m.augment;
    const target = m.budget.plan.tokens;
    expect(target).toBe(90000);
    expect(m.budget.selected_unique_tokens).toBeLessThan(target / 2); // the pool is short of the budget
    expect(a.synthetic_tokens).toBeGreaterThan(0);
    expect(a.synthetic_tokens).toBeLessThanOrEqual(0.2 * target);
    // The manifest adds up: variants made = kept + rejected by reason; the split covers the target.
    expect(a.generated).toBe(a.kept + Object.values(a.rejected as Record<string, number>).reduce((x, y) => x + y, 0));
    expect(a.split.unique_real + a.split.repeated_real + a.split.synthetic).toBeCloseTo(target, 6);
    expect(m.counts.reconciled).toBe(true);
    // Provenance of every variant, and the kept ones in the Arrow output, flagged.
    const augs = await r.q<{ id: string; parent_id: string; aug_operator: string; strength: number; seed: string; status: string; text: string; tokens: number; parent_text: string }>(
      `SELECT a.id, a.parent_id, a.aug_operator, a.strength, a.seed::VARCHAR seed, a.status, a.text, a.tokens, p.text parent_text FROM augmentations a JOIN samples p ON p.uid = a.parent_uid`,
    );
    expect(augs.length).toBe(a.generated);
    for (const x of augs) {
      expect(x.parent_id).toBeTruthy();
      expect(x.aug_operator).toBeTruthy();
      expect(x.strength).toBe(0.3);
      expect(x.seed).toMatch(/^\d+$/);
    }
    const kept = augs.filter((x) => x.status === 'selected');
    expect(kept.length).toBe(a.kept);
    expect(kept.reduce((s, x) => s + x.tokens, 0)).toBe(a.synthetic_tokens);
    // Spread: no parent amplified beyond per_parent, and many parents used.
    const perParent = new Map<string, number>();
    for (const x of kept) perParent.set(x.parent_id, (perParent.get(x.parent_id) ?? 0) + 1);
    expect(Math.max(...perParent.values())).toBeLessThanOrEqual(3);
    expect(perParent.size).toBeGreaterThan(kept.length / 3);
    // None is an exact or near duplicate of real text or of another kept variant (true Jaccard).
    const real = (await r.q<{ text: string }>(`SELECT text FROM samples WHERE text IS NOT NULL`)).map((x) => x.text);
    const realKeys = new Set(real.map((t) => dedupKey(t, KEY)));
    const realSh = real.map(shingles);
    const keptSh: Set<string>[] = [];
    for (const x of kept) {
      expect(realKeys.has(dedupKey(x.text, KEY))).toBe(false);
      const sh = shingles(x.text);
      for (const o of [...realSh, ...keptSh]) expect(jaccard(sh, o)).toBeLessThan(0.8);
      keptSh.push(sh);
    }
    const table = tableFromIPC(readFileSync(path.join(r.out, 'selection.arrow')));
    const flags = table.getChild('is_synthetic')!.toArray() as boolean[];
    expect([...flags].filter(Boolean).length).toBe(a.kept);
    expect(table.numRows).toBe(m.counts.selected + a.kept);
    expect(
      new Set(
        table
          .getChild('aug_operator')!
          .toArray()
          .filter((v: unknown) => v !== null),
      ),
    ).toEqual(new Set(Object.keys(a.kept_by_operator)));
  });

  it('same seed gives byte-identical augmentations, another seed different ones', async () => {
    const dir = tempDir();
    const file = data(dir);
    const texts = async (seed: number, name: string): Promise<string> => {
      const r = await runYaml(dir, yaml(file, seed), name);
      return (await r.q<{ t: string }>(`SELECT string_agg(id || '\t' || coalesce(text, '') || '\t' || status, '\n' ORDER BY uid) t FROM augmentations`))[0]!.t;
    };
    const a = await texts(5, 'a');
    expect(await texts(5, 'b')).toBe(a);
    expect(await texts(6, 'c')).not.toBe(a);
  });

  it('needs the embed stage: the config error names the key', async () => {
    const dir = tempDir();
    writeJsonl(path.join(dir, 'a.jsonl'), [{ text: 'x' }]);
    const f = writePipeline(dir, `sources: [{ name: a, path: a.jsonl }]\nstages: { embed: { enabled: false }, augment: { enabled: true } }\n`);
    const r = await runCli(['run', f, '--out', path.join(dir, 'o')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('stages.augment.enabled');
  });
});

describe('generator interface: an OpenAI-compatible HTTP server', () => {
  let server: Server;
  let url: string;
  const seen: string[] = [];

  beforeAll(async () => {
    // A real local server: /v1/completions answers with the text's words reversed. A text whose
    // first word is "A" always fails (500); one whose first word is "B" hangs past the timeout.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.url !== '/v1/completions' || req.method !== 'POST') return void res.writeHead(404).end();
        const { prompt } = JSON.parse(body) as { prompt: string };
        const text = prompt.split('\n')[1] ?? '';
        seen.push(text);
        if (/^A /.test(text)) return void res.writeHead(500).end('injected failure');
        if (/^B /.test(text)) return void setTimeout(() => res.writeHead(200).end('{}'), 3000);
        // An endpoint gone wrong: a 5 MB answer (valid JSON).
        if (/^C /.test(text)) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ choices: [{ text: 'x'.repeat(5_000_000) }] }));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ choices: [{ text: text.split(' ').reverse().join(' ') + ' (rw)' }] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('rewrites through the server, skips and counts failed items, and the run completes', async () => {
    const dir = tempDir();
    const rows = fixture('sib200/yor_Latn')
      .filter((r) => r.split === 'train')
      .slice(0, 160);
    writeJsonl(
      path.join(dir, 'yor.jsonl'),
      rows.map((r, i) => ({ id: r.id, text: i % 10 === 0 ? `A ${r.text}` : i % 10 === 1 ? `B ${r.text}` : i % 10 === 2 ? `C ${r.text}` : r.text })),
    );
    const r = await runYaml(
      dir,
      yaml(
        'yor.jsonl',
        2,
        `    operators: [token_dropout]\n    per_parent: 2\n    max_synthetic_share: 0.5\n    generator: { kind: http, url: "${url}", timeout_ms: 400, retries: 1, concurrency: 3, max_response_bytes: 100000 }`,
      ).replace('90000', '20000'),
    );
    const byOp = await r.q<{ op: string; status: string; reason: string | null; n: number }>(`SELECT aug_operator op, status, reason, count(*)::INT n FROM augmentations GROUP BY ALL ORDER BY ALL`);
    const gen = byOp.filter((x) => x.op === 'generator:http');
    expect(gen.find((x) => x.status === 'selected')!.n).toBeGreaterThan(10);
    const failed = gen.find((x) => x.reason === 'generator_failed')?.n ?? 0;
    expect(failed).toBeGreaterThan(0);
    const kept = await r.q<{ text: string; parent: string }>(
      `SELECT a.text, p.text parent FROM augmentations a JOIN samples p ON p.uid = a.parent_uid WHERE a.aug_operator = 'generator:http' AND a.status = 'selected'`,
    );
    for (const k of kept) expect(k.text).toBe(k.parent.split(' ').reverse().join(' ') + ' (rw)');
    // Every failure was an injected one (a text starting with A, B or C), A and B retried once.
    const failedParents = await r.q<{ t: string }>(`SELECT p.text t FROM augmentations a JOIN samples p ON p.uid = a.parent_uid WHERE a.reason = 'generator_failed'`);
    for (const f of failedParents) expect(f.t).toMatch(/^[ABC] /);
    expect(failedParents.some((f) => /^C /.test(f.t))).toBe(true);
    expect(r.warnings.join('\n')).not.toMatch(/stopped calling/);
    expect(seen.filter((t) => /^A /.test(t)).length).toBeGreaterThanOrEqual(2 * failedParents.filter((f) => /^A /.test(f.t)).length);
    const m = JSON.parse(readFileSync(path.join(r.out, 'manifest.json'), 'utf8'));
    expect(m.augment.rejected.generator_failed).toBe(failed);
  }, 120_000);

  it('an endpoint that never answers is given up after a few items in a row, and the run completes with its accounting', async () => {
    let requests = 0;
    const hanging = createServer((req) => {
      requests++;
      req.resume();
    });
    await new Promise<void>((res) => hanging.listen(0, '127.0.0.1', res));
    try {
      const dir = tempDir();
      const rows = fixture('sib200/yor_Latn')
        .filter((x) => x.split === 'train')
        .slice(0, 120);
      writeJsonl(
        path.join(dir, 'yor.jsonl'),
        rows.map((x) => ({ id: x.id, text: x.text })),
      );
      const hurl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
      const r = await runYaml(
        dir,
        yaml(
          'yor.jsonl',
          2,
          `    operators: [token_dropout]
    per_parent: 2
    max_synthetic_share: 0.5
    generator: { kind: http, url: "${hurl}", timeout_ms: 300, retries: 1, concurrency: 2, max_consecutive_failures: 4 }`,
        ).replace('90000', '20000'),
      );
      const gen = await r.q<{ reason: string | null; given_up: number; n: number }>(
        `SELECT reason, count(*) FILTER (reason_detail LIKE 'endpoint given up: 4 items failed in a row%')::INT given_up, count(*)::INT n FROM augmentations WHERE aug_operator = 'generator:http' GROUP BY ALL`,
      );
      expect(gen).toHaveLength(1);
      expect(gen[0]!.reason).toBe('generator_failed');
      expect(gen[0]!.n).toBeGreaterThan(20);
      expect(gen[0]!.given_up).toBeGreaterThan(gen[0]!.n - 10);
      // 4 failures in a row (each tried twice), plus what was in flight when the endpoint was given up.
      expect(requests).toBeLessThanOrEqual((4 + 2) * 2);
      expect(r.warnings.join('\n')).toMatch(/stopped calling http:\/\/127\.0\.0\.1:\d+ after 4 items failed in a row \(last: no answer within 300 ms\)/);
      const m = JSON.parse(readFileSync(path.join(r.out, 'manifest.json'), 'utf8'));
      expect(m.augment.rejected.generator_failed).toBe(gen[0]!.n);
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((res) => hanging.close(() => res()));
    }
  }, 120_000);
});
