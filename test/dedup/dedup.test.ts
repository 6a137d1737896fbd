import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dedupKey } from '../../src/dedup/dedup-key.js';
import { bandHashes, MinHasher, optimalBands } from '../../src/dedup/minhash.js';
import { clusterNear, type NearClusterResult } from '../../src/dedup/near-cluster.js';
import { scoreClusters } from '../../bench/eval/dedup-quality.js';
import { fixture, tempDir, writeJsonl } from '../helpers.js';
import { runYaml } from '../backbone/run-helpers.js';

const KEY = { stripMarks: true, casefold: true, collapsePunctuation: true };

describe('dedup key and LSH parameters', () => {
  it('one key for a sentence with and without tone marks, NFD, curly quotes, case and spacing', () => {
    const base = 'Ọlọ́run dá “ayé” àti ọ̀run.';
    const variants = [base.normalize('NFD'), 'Olorun da "aye" ati orun', '  ỌLỌ́RUN   dá ‘ayé’ àti ọ̀run!! ', base];
    for (const v of variants) expect(dedupKey(v, KEY)).toBe('olorun da aye ati orun');
    expect(dedupKey('ሰላም ለዓለም።', KEY)).toBe('ሰላም ለዓለም');
  });

  it('bands x rows minimize the weighted false-positive and false-negative areas', () => {
    expect(optimalBands(0.7, 128)).toEqual({ bands: 14, rows: 9 });
    const recallLeaning = optimalBands(0.7, 128, 0.2, 0.8);
    expect(recallLeaning.bands * recallLeaning.rows).toBeLessThanOrEqual(128);
    expect(recallLeaning.rows).toBeLessThan(9);
  });
});

describe('near-duplicate clustering in slices', () => {
  it('links do not depend on the slice size; when every candidate fits, each is loaded once', async () => {
    // Windows of 6-20 words from SIB-200 sentences: most rows are near another (as in a scraped lake).
    const words = fixture('sib200/swh_Latn')
      .slice(0, 40)
      .map((r) => r.text.split(' '));
    const texts: string[] = [];
    for (let i = 0; i < 1500; i++) {
      const w = words[i % words.length]!;
      const start = (i * 7) % Math.max(1, w.length - 6);
      texts.push(w.slice(start, start + 6 + (i % 15)).join(' '));
    }
    const { bands, rows } = optimalBands(0.7, 128, 0.2, 0.8);
    const hasher = new MinHasher(128, 5, 1);
    const all = new Uint32Array(texts.length * bands);
    const sigs = texts.map((t, i) => {
      const sig = new Uint32Array(128);
      hasher.signature(dedupKey(t, KEY), sig);
      bandHashes(sig, bands, rows, all, i * bands);
      return sig;
    });
    const run = async (sliceDocs: number): Promise<{ r: NearClusterResult; loads: number; calls: number }> => {
      let loads = 0;
      let calls = 0;
      const r = await clusterNear({
        n: texts.length,
        bandHashes: all,
        bands,
        active: new Uint8Array(texts.length).fill(1),
        threshold: 0.7,
        verify: true,
        sliceDocs,
        loadScorer: async (ids) => {
          calls++;
          loads += ids.length;
          const held = new Set(ids);
          return (a, b) => {
            if (!held.has(a) || !held.has(b)) throw new Error(`pair ${a}-${b} scored outside its slice`);
            let same = 0;
            for (let k = 0; k < 128; k++) if (sigs[a]![k] === sigs[b]![k]) same++;
            return same / 128;
          };
        },
      });
      return { r, loads, calls };
    };
    const whole = await run(1_000_000);
    const sliced = await run(100);
    expect(whole.r.candidatePairs).toBeGreaterThan(500);
    expect(whole.calls).toBe(1);
    expect(whole.loads).toBe(whole.r.candidateDocs);
    expect(whole.r.loadedDocs).toBe(whole.loads);
    // Small slices load a candidate once per slice whose buckets hold it: more loads, the same links.
    expect(sliced.calls).toBeGreaterThan(10);
    expect(sliced.loads).toBeGreaterThan(2 * whole.loads);
    const roots = (r: NearClusterResult) => texts.map((_, i) => r.uf.find(i));
    expect(roots(sliced.r)).toEqual(roots(whole.r));
    expect([...sliced.r.linkedTo]).toEqual([...whole.r.linkedTo]);
    expect([...sliced.r.linkScore]).toEqual([...whole.r.linkScore]);
    expect(sliced.r.candidatePairs).toBe(whole.r.candidatePairs);
  });
});

describe('dedup on real data', () => {
  it.each(['signature', 'jaccard'])('neardup-sentences (verify: %s): pairwise precision >= 0.98, recall >= 0.95 on the lexical kinds, no neighbour merged', async (verify) => {
    const dir = tempDir();
    const docs = fixture('neardup-sentences/docs');
    const pairs = fixture('neardup-sentences/pairs') as never as { a: string; b: string; label: number; kind: string }[];
    writeJsonl(path.join(dir, 'docs.jsonl'), docs);
    const run = await runYaml(dir, `sources:\n  - { name: d, path: docs.jsonl, columns: { id: id, lang: lang } }\nstages:\n  filters: { min_chars: 1 }\n  dedup: { near: { verify: ${verify} } }\n`);
    const rows = await run.q<{ id: string; c: string | null }>('SELECT id, dup_cluster::VARCHAR AS c FROM samples');
    const scores = scoreClusters(docs as never, new Map(rows.map((r) => [r.id, r.c])), pairs);
    const table = Object.entries(scores.byKind)
      .sort()
      .map(([k, v]) => `${k.padEnd(36)} ${String(v.pairs).padStart(4)} pairs, merged ${(v.rate * 100).toFixed(1)}%`)
      .join('\n');
    console.log(
      `exact + near dedup on neardup-sentences (threshold 0.7, 128 perms, char 5-grams, verify ${verify}):\npairwise precision ${scores.precision.toFixed(4)} over ${scores.predictedPairs} predicted pairs\n${table}`,
    );
    mkdirSync('test-output', { recursive: true });
    writeFileSync(`test-output/dedup-neardup-${verify}.json`, JSON.stringify(scores, null, 2));
    expect(scores.precision).toBeGreaterThanOrEqual(0.98);
    for (const kind of ['exact', 'unicode_nfd', 'whitespace_punct_case', 'strip_diacritics', 'token_edit_5pct']) {
      expect(scores.byKind[kind]!.rate, kind).toBeGreaterThanOrEqual(0.95);
    }
    expect(scores.byKind.neighbouring_sentence_same_article!.merged).toBe(0);
    for (const [kind, v] of Object.entries(scores.byKind)) if (kind.startsWith('translation_')) expect(v.merged, kind).toBe(0);
    // Every removed row says which kept row it duplicates, and the counts reconcile.
    const [orphans] = await run.q<{ n: number }>(`SELECT count(*)::INT AS n FROM samples WHERE reason IN ('exact_dup', 'near_dup') AND (dup_of IS NULL OR dup_cluster IS NULL)`);
    expect(orphans!.n).toBe(0);
    expect(run.summary.counts.input).toBe(run.summary.counts.selected + run.summary.counts.rejected_total);
    // A near duplicate names the pair that put it in its cluster, with a score at the threshold or above,
    // and that row is in the same cluster (chains make the kept row another one).
    const near = await run.q<{ detail: string; c: string; partner: string | null }>(
      `SELECT s.reason_detail AS detail, s.dup_cluster::VARCHAR AS c, p.dup_cluster::VARCHAR AS partner
       FROM samples s LEFT JOIN samples p ON p.id = regexp_extract(s.reason_detail, ' with (\\S+?)(;|$)', 1) WHERE s.reason = 'near_dup'`,
    );
    expect(near.length).toBeGreaterThan(100);
    const weak = near.filter((r) => !(Number(/jaccard[~=]([0-9.]+)/.exec(r.detail)?.[1]) >= 0.7) || r.partner !== r.c);
    expect(weak.slice(0, 3), `${weak.length} near_dup rows without a pair at the threshold in their cluster`).toEqual([]);
  });

  it('fingerprints held (default budget) or signed again from the texts (tight budget): the same clusters, links and details', async () => {
    const dir = tempDir();
    writeJsonl(path.join(dir, 'docs.jsonl'), fixture('neardup-sentences/docs'));
    const yaml = (memory: string) =>
      `sources:\n  - { name: d, path: docs.jsonl, columns: { id: id, lang: lang } }\nexecution: { memory: ${memory} }\nstages:\n  filters: { min_chars: 1 }\n  embed: { enabled: false }\n  select: { enabled: false }\n`;
    const runs = [await runYaml(dir, yaml('auto'), 'held'), await runYaml(dir, yaml('64MB'), 'tight')];
    const [held, tight] = runs.map(
      (r) => JSON.parse(readFileSync(path.join(r.out, 'manifest.json'), 'utf8')) as { dedup: { fingerprints_held: boolean; scored_docs: number; candidate_pairs: number } },
    );
    expect(held!.dedup.fingerprints_held).toBe(true);
    expect(tight!.dedup.fingerprints_held).toBe(false);
    expect(tight!.dedup.scored_docs).toBeGreaterThan(0);
    expect(tight!.dedup.candidate_pairs).toBe(held!.dedup.candidate_pairs);
    const outcomes = runs.map((r) => r.q<{ id: string; reason: string | null }>(`SELECT id, status, reason, reason_detail, dup_cluster::VARCHAR AS c, dup_kind, dup_of FROM samples ORDER BY id`));
    const [a, b] = await Promise.all(outcomes);
    expect(a!.filter((r) => r.reason === 'near_dup').length).toBeGreaterThan(100);
    expect(b).toEqual(a);
  });

  it('AfriSenti: every known exact duplicate (identical tweet text) is found', async () => {
    const dir = tempDir();
    const langs = ['kin', 'swa', 'tso', 'twi'];
    const all = langs.flatMap((l) => fixture(`afrisenti/${l}`));
    writeJsonl(path.join(dir, 'tweets.jsonl'), all);
    const run = await runYaml(dir, `sources:\n  - { name: t, path: tweets.jsonl, columns: { id: id, lang: lang } }\nstages:\n  filters: { min_chars: 1 }\n  dedup: { near: { enabled: false } }\n`);
    const byText = new Map<string, string[]>();
    for (const r of all) byText.set(`${r.lang}\u0000${r.text}`, [...(byText.get(`${r.lang}\u0000${r.text}`) ?? []), r.id]);
    const dupGroups = [...byText.values()].filter((g) => g.length > 1);
    const extraCopies = dupGroups.reduce((n, g) => n + g.length - 1, 0);
    // SOURCE.md counts exact-duplicate rows (copies beyond the first) per language: kin 117, swa 12, tso 0, twi 672.
    expect(extraCopies).toBe(117 + 12 + 0 + 672);
    const rows = await run.q<{ id: string; c: string | null }>('SELECT id, dup_cluster::VARCHAR AS c FROM samples');
    const cluster = new Map(rows.map((r) => [r.id, r.c]));
    for (const g of dupGroups) {
      const c = cluster.get(g[0]!);
      expect(c, g.join(',')).not.toBeNull();
      for (const id of g) expect(cluster.get(id)).toBe(c);
    }
    const [removed] = await run.q<{ n: number }>(`SELECT count(*)::INT AS n FROM samples WHERE reason = 'exact_dup'`);
    // At least one removal per extra copy (the normalized key also merges case and punctuation variants).
    expect(removed!.n).toBeGreaterThanOrEqual(extraCopies);
  });

  it('a second run against the first run admits none of its texts again', async () => {
    const dir = tempDir();
    const rows = fixture('sib200/hau_Latn');
    writeJsonl(path.join(dir, 'day1.jsonl'), rows.slice(0, 500));
    // Day 2 repeats 200 day-1 texts (60 with their tone marks and case changed) and adds 300 new ones.
    const repeats = rows.slice(100, 300).map((r, i) => ({ ...r, id: `${r.id}-again`, text: i < 60 ? r.text.toUpperCase() : r.text }));
    writeJsonl(path.join(dir, 'day2.jsonl'), [...repeats, ...rows.slice(500, 800)]);
    const first = await runYaml(dir, `sources:\n  - { name: d, path: day1.jsonl, columns: { id: id } }\n`, 'run1');
    const second = await runYaml(dir, `sources:\n  - { name: d, path: day2.jsonl, columns: { id: id } }\nstages:\n  dedup: { against: [run1] }\n`, 'run2');
    const firstKept = new Set((await first.q<{ text: string }>(`SELECT text FROM samples WHERE status = 'selected'`)).map((r) => dedupKey(r.text, KEY)));
    const admitted = await second.q<{ text: string }>(`SELECT text FROM samples WHERE status = 'selected'`);
    expect(admitted.filter((r) => firstKept.has(dedupKey(r.text, KEY)))).toEqual([]);
    // Every repeat is rejected and points at the day-1 row it repeats (negative cluster ids lead to earlier runs).
    const repeatsOut = await second.q<{ id: string; dup_of: string; reason: string }>(
      `SELECT id, dup_of, reason FROM samples WHERE id LIKE '%-again' AND status = 'rejected' AND dup_cluster < 0 ORDER BY uid`,
    );
    expect(repeatsOut).toHaveLength(200);
    expect(repeatsOut.every((r) => r.id === `${r.dup_of}-again`)).toBe(true);
    expect(new Set(repeatsOut.slice(0, 60).map((r) => r.reason))).toEqual(new Set(['exact_dup']));
    expect(second.summary.counts.input).toBe(500);
  });
});

describe('semantic dedup (SemDeDup on the built-in embeddings)', () => {
  it('removes close paraphrases, keeps neighbouring sentences apart, and reports translation pairs', async () => {
    const dir = tempDir();
    const docs = fixture('neardup-sentences/docs');
    const pairs = fixture('neardup-sentences/pairs') as never as { a: string; b: string; label: number; kind: string }[];
    writeJsonl(path.join(dir, 'docs.jsonl'), docs);
    const run = await runYaml(
      dir,
      `sources:\n  - { name: d, path: docs.jsonl, columns: { id: id, lang: lang } }\nstages:\n  filters: { min_chars: 1 }\n  embed: { enabled: true, device: cpu, cache: false }\n  dedup: { near: { enabled: false }, semantic: { enabled: true, eps: 0.15, cross_lingual: flag } }\n`,
    );
    const rows = await run.q<{ id: string; c: string | null; kind: string | null }>('SELECT id, dup_cluster::VARCHAR AS c, dup_kind AS kind FROM samples');
    const scores = scoreClusters(docs as never, new Map(rows.map((r) => [r.id, r.c])), pairs);
    const kinds = await run.q<{ kind: string; n: number }>(`SELECT dup_kind AS kind, count(*)::INT AS n FROM samples WHERE dup_kind IS NOT NULL GROUP BY ALL ORDER BY ALL`);
    const table = Object.entries(scores.byKind)
      .sort()
      .map(([k, v]) => `${k.padEnd(36)} ${String(v.pairs).padStart(4)} pairs, in one cluster ${(v.rate * 100).toFixed(1)}%`)
      .join('\n');
    console.log(
      `exact + semantic dedup (eps 0.15, cross-lingual flagged) on neardup-sentences:\npairwise precision ${scores.precision.toFixed(4)}\n${table}\nrows by dup_kind: ${JSON.stringify(kinds)}`,
    );
    writeFileSync('test-output/dedup-semantic-neardup.json', JSON.stringify({ scores, kinds }, null, 2));
    // Lexical near-duplicates are close in embedding space too; neighbouring sentences are not.
    expect(scores.byKind.token_edit_5pct!.rate).toBeGreaterThanOrEqual(0.9);
    expect(scores.byKind.neighbouring_sentence_same_article!.rate).toBeLessThanOrEqual(0.02);
    const [semantic] = await run.q<{ n: number }>(`SELECT count(*)::INT AS n FROM samples WHERE reason = 'semantic_dup' AND dup_of IS NOT NULL`);
    expect(semantic!.n).toBeGreaterThan(0);
    expect(run.summary.counts.input).toBe(run.summary.counts.selected + run.summary.counts.rejected_total);
  });
});
