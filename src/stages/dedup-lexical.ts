import { ALIVE, alive } from '../core/reasons.js';
import { ARRAY, BIGINT, UBIGINT, UINTEGER, VARCHAR, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { readArrayColumn, setArrayColumn } from '../embed/vector-chunk.js';
import type { DedupConfig } from '../config/schema.js';
import { dedupKey, type DedupKeyOptions } from '../dedup/dedup-key.js';
import { MinHasher, optimalBands } from '../dedup/minhash.js';
import { clusterNear, type PairScore } from '../dedup/near-cluster.js';
import { timesFits } from '../core/memory.js';
import { loadPrior, type NearParams, type PriorIndex } from '../dedup/prior.js';
import { shingleHashes, sortedJaccard } from '../dedup/shingle-set.js';
import { appendChunks, appendColumns, CHUNK_ROWS } from '../store/append.js';
import { rowsByUid, uidRanges, UID_WINDOW } from '../store/uid-windows.js';
import { signTexts, type SignParams, type Signed } from '../dedup/sign.js';
import { openTaskPool, runConcurrent, threadCount } from '../executors/task-pool.js';
import { builtWorker } from '../executors/worker-thread.js';
import type { BarrierContext, BarrierResult, BarrierStage } from './barrier.js';

/**
 * Exact and near-duplicate removal (before embedding, so duplicates are never embedded). Exact: xxh64
 * of the dedup key. Near: MinHash LSH over character shingles of the key, candidates verified by
 * Jaccard, union-find into clusters. Rows of earlier runs named in `against` lead any cluster they
 * are in. Writes samples.dup_cluster/dup_kind/dup_of, rejects with exact_dup/near_dup, and stores a
 * dedup_index of the kept rows for later runs.
 */
export const lexicalDedupStage: BarrierStage = {
  name: 'dedup',
  enabled: (p) => p.stages.dedup.exact.enabled || p.stages.dedup.near.enabled,
  perShard: true,
  writes: ['dedup_params', 'dedup_index', 'dedup_signatures', 'dup_clusters', 'samples.dup_cluster', 'samples.dup_kind', 'samples.dup_of'],
  run: runLexicalDedup,
};

/** The dup_* columns of samples (added by whichever dedup stage runs first). */
export async function addDupColumns(c: DuckDBConnection): Promise<void> {
  await c.run(`ALTER TABLE samples ADD COLUMN IF NOT EXISTS dup_cluster BIGINT;
    ALTER TABLE samples ADD COLUMN IF NOT EXISTS dup_kind VARCHAR;
    ALTER TABLE samples ADD COLUMN IF NOT EXISTS dup_of VARCHAR`);
}

function keyOptions(cfg: DedupConfig): DedupKeyOptions {
  return { stripMarks: cfg.key.strip_marks, casefold: cfg.key.casefold, collapsePunctuation: cfg.key.collapse_punctuation };
}

export function nearParams(cfg: DedupConfig, seed: number): NearParams {
  // Candidates are verified, so LSH leans to recall: false negatives weigh 4x false positives.
  const { bands, rows } = optimalBands(cfg.near.threshold, cfg.near.num_perm, 0.2, 0.8);
  return { numPerm: cfg.near.num_perm, bands, rows, shingle: cfg.near.shingle, seed };
}

/**
 * The representative of each document's exact-duplicate group. Documents are sorted natively by the
 * high 32 bits of their key hash packed with their index in one float64; only inside a run of equal
 * high bits are full 64-bit keys compared, so memory is 8 bytes a document instead of a hash map.
 */
function exactRepresentatives(n: number, keyOf: (i: number) => bigint, better: (a: number, b: number) => boolean): Int32Array {
  const rep = Int32Array.from({ length: n }, (_, i) => i);
  const sorted = new Int32Array(n);
  if (n < 2 ** 21) {
    const DOC = 2 ** 21;
    const order = new Float64Array(n);
    for (let i = 0; i < n; i++) order[i] = Number(keyOf(i) >> 32n) * DOC + i;
    order.sort();
    for (let j = 0; j < n; j++) sorted[j] = order[j]! % DOC;
  } else {
    // Beyond 2^21 documents the pair needs 64-bit integers, still sorted natively.
    const order = new BigUint64Array(n);
    for (let i = 0; i < n; i++) order[i] = ((keyOf(i) >> 32n) << 32n) | BigInt(i);
    order.sort();
    for (let j = 0; j < n; j++) sorted[j] = Number(order[j]! & 0xffffffffn);
  }
  for (let s = 0; s < n;) {
    const hi = keyOf(sorted[s]!) >> 32n;
    let e = s + 1;
    while (e < n && keyOf(sorted[e]!) >> 32n === hi) e++;
    if (e - s > 1) {
      const best = new Map<bigint, number>();
      for (let j = s; j < e; j++) {
        const i = sorted[j]!;
        const r = best.get(keyOf(i));
        if (r === undefined || better(i, r)) best.set(keyOf(i), i);
      }
      for (let j = s; j < e; j++) rep[sorted[j]!] = best.get(keyOf(sorted[j]!))!;
    }
    s = e;
  }
  return rep;
}

interface Docs {
  n: number;
  uid: Float64Array;
  chars: Int32Array;
  keyHash: BigUint64Array;
  bandHashes: Uint32Array;
  /**
   * Low byte of each MinHash value (n x numPerm) when the memory budget holds them easily (see
   * HOLD_SHARE), so verifying a candidate pair signs nothing again; else empty.
   */
  fingerprints: Uint8Array;
}

async function runLexicalDedup(ctx: BarrierContext): Promise<BarrierResult> {
  const t0 = performance.now();
  const cfg = ctx.config.stages.dedup;
  const c = ctx.store.conn;
  const keyOpts = keyOptions(cfg);
  const np = nearParams(cfg, ctx.config.seed);
  const hasher = new MinHasher(np.numPerm, np.shingle, np.seed);
  const prior: PriorIndex = cfg.against.length > 0 ? await loadPrior(c, cfg.against, ctx.baseDir, np) : { ids: [], keyHash: [], texts: [], bandHashes: null };
  const P = prior.ids.length;
  if (P > 0 && prior.bandHashes === null) {
    ctx.log.warn('stages.dedup.against: earlier runs used other MinHash settings; re-signing their kept texts');
    prior.bandHashes = signTexts(prior.texts, { ...np, key: keyOpts, near: true, hold: false }, hasher).bands;
  }
  const docs =
    ctx.role === 'merge' ? await readSignatures(ctx, np, cfg.near.enabled) : await signCurrent(ctx, hasher, np, keyOpts, cfg.near.enabled, cfg.near.enabled && cfg.near.verify === 'signature');
  if (ctx.role === 'shard') await writeSignatures(ctx, docs, np);
  const N = P + docs.n;
  const counters = { stage: 'dedup', in: docs.n, out: docs.n, rejected: {} as Record<string, number>, seconds: 0 };

  // Policy order: earlier runs first, then `first` (ingest order) or `longest`.
  const better = (a: number, b: number): boolean => {
    if (a < P !== b < P) return a < P;
    if (a < P) return a < b;
    if (cfg.keep === 'longest') {
      const ca = docs.chars[a - P]!;
      const cb = docs.chars[b - P]!;
      if (ca !== cb) return ca > cb;
    }
    return a < b;
  };

  // Exact: one representative per key hash.
  const keyOf = (i: number): bigint => (i < P ? prior.keyHash[i]! : docs.keyHash[i - P]!);
  const exactRep = cfg.exact.enabled ? exactRepresentatives(N, keyOf, better) : Int32Array.from({ length: N }, (_, i) => i);

  // Near: LSH over the exact representatives.
  // Without earlier runs the current arrays serve as they are; a copy would double the biggest buffers.
  const allBands = P === 0 ? docs.bandHashes : concat(new Uint32Array(N * np.bands), prior.bandHashes!, docs.bandHashes);
  const active = new Uint8Array(N);
  for (let i = 0; i < N; i++) active[i] = cfg.near.enabled && exactRep[i] === i ? 1 : 0;
  const texts = (ids: Int32Array): Promise<Map<number, string>> => candidateKeys(ctx, ids, P, prior, docs, keyOpts);
  const near = await clusterNear({
    sliceDocs: scorerSlice(ctx, cfg.near.verify, np, docs),
    n: N,
    bandHashes: allBands,
    bands: np.bands,
    active,
    threshold: cfg.near.threshold,
    verify: cfg.near.verify !== 'none',
    loadScorer: async (ids) =>
      cfg.near.verify === 'jaccard' ? jaccardScore(await texts(ids), np.shingle) : cfg.near.verify === 'signature' ? fingerprintScore(ids, hasher, texts, docs.fingerprints, P) : () => NaN,
  });

  // The kept member of each near cluster, by policy.
  const leader = new Int32Array(N).fill(-1);
  for (let i = 0; i < N; i++) {
    if (!active[i]) continue;
    const root = near.uf.find(i);
    if (leader[root] === -1 || better(i, leader[root]!)) leader[root] = i;
  }
  const finalRep = (i: number): number => {
    const e = exactRep[i]!;
    return active[e] ? leader[near.uf.find(e)]! : e;
  };
  const clusterSize = new Int32Array(N);
  for (let i = 0; i < N; i++) clusterSize[finalRep(i)]!++;
  const outcome = (i: number): Outcome | null => {
    const rep = finalRep(i);
    if (clusterSize[rep]! < 2) return null;
    if (rep === i) return { rep, kind: null, via: -1, detail: null };
    // The pair that put the row in its cluster: its exact twin, else its first verified link.
    if (exactRep[i] !== i) return { rep, kind: 'exact', via: exactRep[i]!, detail: 'same dedup key' };
    const score = near.linkScore[i]!;
    return { rep, kind: 'near', via: near.linkedTo[i]!, detail: Number.isNaN(score) ? 'LSH bucket (unverified)' : `jaccard${cfg.near.verify === 'signature' ? '~' : '='}${score.toFixed(3)}` };
  };
  await writeOutcomes(ctx, docs, prior, P, outcome, counters);
  await c.run(`CREATE VIEW dup_clusters AS
    SELECT dup_cluster AS cluster, count(*) AS size, count(*) FILTER (dup_kind IS NOT NULL) AS removed,
           list(DISTINCT dup_kind) FILTER (dup_kind IS NOT NULL) AS kinds,
           coalesce(max(id) FILTER (dup_kind IS NULL), any_value(dup_of)) AS kept_id,
           max(text) FILTER (dup_kind IS NULL) AS kept_text
    FROM samples WHERE dup_cluster IS NOT NULL GROUP BY dup_cluster`);
  await writeIndex(ctx, docs, prior, np);
  counters.seconds = (performance.now() - t0) / 1000;
  return {
    counters,
    manifest: {
      key: keyOpts,
      keep: cfg.keep,
      near: cfg.near.enabled ? { threshold: cfg.near.threshold, num_perm: np.numPerm, bands: np.bands, rows: np.rows, shingle: np.shingle, verified: cfg.near.verify } : null,
      earlier_runs: cfg.against,
      earlier_rows: P,
      candidate_docs: near.candidateDocs,
      candidate_pairs: near.candidatePairs,
      // How the candidates were verified: this run's fingerprints held, or the candidates' texts
      // read back and signed (or shingled) again, scored_docs of them over all slices.
      fingerprints_held: docs.fingerprints.length > 0,
      scored_docs: near.loadedDocs,
      removed: counters.rejected,
    },
  };
}

/** A current row in a cluster of two or more: its cluster's kept row, and for a removed row why. */
interface Outcome {
  rep: number;
  kind: 'exact' | 'near' | null;
  /** The row it duplicates directly (-1 for the kept row); the cluster's kept row may be further along. */
  via: number;
  detail: string | null;
}

/** samples.dup_* and the rejections, through a temporary table appended a chunk at a time. */
async function writeOutcomes(
  ctx: BarrierContext,
  docs: Docs,
  prior: PriorIndex,
  P: number,
  outcome: (i: number) => Outcome | null,
  counters: { out: number; rejected: Record<string, number> },
): Promise<void> {
  const c = ctx.store.conn;
  await c.run(`CREATE TEMP TABLE dedup_result (uid BIGINT, dup_cluster BIGINT, dup_kind VARCHAR, dup_of_uid BIGINT, dup_of_prior VARCHAR, via_uid BIGINT, via_prior VARCHAR, detail VARCHAR)`);
  const app = await c.createAppender('dedup_result');
  const types = [BIGINT, BIGINT, VARCHAR, BIGINT, VARCHAR, BIGINT, VARCHAR, VARCHAR];
  const empty = (): DuckDBValue[][] => types.map(() => []);
  const uidOf = (i: number): bigint | null => (i < P ? null : BigInt(docs.uid[i - P]!));
  const priorId = (i: number): string | null => (i < P ? prior.ids[i]! : null);
  let cols = empty();
  for (let j = 0; j < docs.n; j++) {
    // Appended a chunk at a time: with many clusters, whole-run JS arrays would cost hundreds of MB.
    if (cols[0]!.length >= CHUNK_ROWS) {
      appendColumns(app, types, cols);
      cols = empty();
    }
    const o = outcome(P + j);
    if (o === null) continue;
    if (o.kind !== null) {
      counters.rejected[`${o.kind}_dup`] = (counters.rejected[`${o.kind}_dup`] ?? 0) + 1;
      counters.out--;
    }
    const removed = o.kind !== null;
    const row: DuckDBValue[] = [
      BigInt(docs.uid[j]!),
      o.rep < P ? BigInt(-1 - o.rep) : uidOf(o.rep),
      o.kind,
      removed ? uidOf(o.rep) : null,
      removed ? priorId(o.rep) : null,
      removed ? uidOf(o.via) : null,
      removed ? priorId(o.via) : null,
      o.detail,
    ];
    row.forEach((v, k) => cols[k]!.push(v));
  }
  appendColumns(app, types, cols);
  app.closeSync();
  await addDupColumns(c);
  await applyOutcomes(c);
  await c.run('DROP TABLE dedup_result');
}

/** Writes dedup_result into samples, a window of uids at a time (see uidRanges). */
async function applyOutcomes(c: DuckDBConnection): Promise<void> {
  for await (const [a, b] of uidRanges(c, 'dedup_result', 2 * UID_WINDOW)) {
    await c.run(`
      UPDATE samples SET
        dup_cluster = r.dup_cluster,
        dup_kind = r.dup_kind,
        dup_of = r.dup_of,
        status = CASE WHEN r.dup_kind IS NULL THEN samples.status ELSE 'rejected' END,
        reason = CASE WHEN r.dup_kind IS NULL THEN samples.reason ELSE r.dup_kind || '_dup' END,
        reason_detail = CASE WHEN r.dup_kind IS NULL THEN samples.reason_detail
          ELSE r.detail || ' with ' || r.via || CASE WHEN r.via = r.dup_of THEN '' ELSE '; the cluster keeps ' || r.dup_of END END
      FROM (SELECT d.uid, d.dup_cluster, d.dup_kind, d.detail, coalesce(d.dup_of_prior, o.id) AS dup_of, coalesce(d.via_prior, v.id) AS via
            FROM (SELECT * FROM dedup_result WHERE uid >= ${a} AND uid < ${b}) d LEFT JOIN samples o ON o.uid = d.dup_of_uid LEFT JOIN samples v ON v.uid = d.via_uid) r
      WHERE samples.uid = r.uid`);
  }
}

/** True Jaccard of the candidates' hashed shingles. */
function jaccardScore(keys: Map<number, string>, k: number): PairScore {
  const shingles = new Map<number, Uint32Array>();
  for (const [i, key] of keys) shingles.set(i, shingleHashes(key, k));
  return (a, b) => sortedJaccard(shingles.get(a)!, shingles.get(b)!);
}

/**
 * Jaccard estimated from the low bytes of the candidates' MinHash values (b-bit minwise hashing, Li &
 * König 2010): this run's from `held` when signCurrent kept them, the others signed again from their
 * texts (which costs a signing of the candidates, not numPerm bytes for every document).
 */
async function fingerprintScore(ids: Int32Array, hasher: MinHasher, keys: (ids: Int32Array) => Promise<Map<number, string>>, held: Uint8Array, P: number): Promise<PairScore> {
  const p = hasher.numPerm;
  const isHeld = (i: number): boolean => held.length > 0 && i >= P;
  const signed = held.length > 0 ? ids.filter((i) => i < P) : ids;
  // One flat array in the order of `signed` (sorted), found by binary search: no object per document.
  const prints = new Uint8Array(signed.length * p);
  const slot = (i: number): number => {
    let lo = 0;
    let hi = signed.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (signed[mid]! < i) lo = mid + 1;
      else hi = mid;
    }
    return lo * p;
  };
  const sig = new Uint32Array(p);
  for (const [i, key] of await keys(signed)) {
    hasher.signature(key, sig);
    const at = slot(i);
    for (let k = 0; k < p; k++) prints[at + k] = sig[k]! & 0xff;
  }
  return (a, b) => {
    // Per pair on a hot path: no tuple per call.
    const ha = isHeld(a);
    const hb = isHeld(b);
    const xa = ha ? held : prints;
    const xb = hb ? held : prints;
    const fa = ha ? (a - P) * p : slot(a);
    const fb = hb ? (b - P) * p : slot(b);
    let same = 0;
    for (let k = 0; k < p; k++) if (xa[fa + k] === xb[fb + k]) same++;
    // Unrelated 8-bit values agree 1/256 of the time; correct for it.
    return Math.max(0, (same / p - 1 / 256) / (1 - 1 / 256));
  };
}

/**
 * Every document's fingerprint is held when numPerm bytes a document are at most this share of what
 * the memory budget leaves beside DuckDB and this process: 128 MB per million rows under the
 * default budget, skipping a second signing of the candidates; not under a tight budget (at 4M rows
 * and 4 GB they would be 512 MB of the ~2 GB left), where candidates are signed again instead.
 */
const HOLD_SHARE = 1 / 8;

/** Never fewer documents than this per slice of candidate scoring, whatever the budget. */
const MIN_SLICE = 50_000;

/**
 * Documents per slice of candidate scoring: half of what the memory budget leaves (beside DuckDB's
 * cap and what this process holds) over the bytes a document's scoring data takes. On a corpus full
 * of near duplicates most documents are candidates in every band; slices of a fixed 50,000 signed
 * each of them up to once per band (18 times), 5.7x the dedup time of holding them at 200,000 rows.
 */
function scorerSlice(ctx: BarrierContext, verify: string, np: NearParams, docs: Docs): number {
  let chars = 0;
  for (let i = 0; i < docs.n; i++) chars += docs.chars[i]!;
  // Every candidate's key text (up to 2 bytes a character) in a Map, and its fingerprint (numPerm
  // bytes) or its shingles (4 bytes each, about one per character, a typed array each).
  const mean = chars / Math.max(1, docs.n);
  const perDoc = verify === 'signature' && docs.fingerprints.length > 0 ? 8 : 2 * mean + 80 + (verify === 'jaccard' ? 4 * mean + 100 : np.numPerm);
  return Math.max(MIN_SLICE, Math.floor(timesFits(ctx.memory, perDoc) / 2));
}

/** Below this many rows signing stays on the main thread: starting threads costs more than it saves. */
const SIGN_POOL_MIN_ROWS = 100_000;
const SIGN_WORKER = builtWorker('sign-worker');

/**
 * One pass over the alive rows: key hash, MinHash band hashes, length; memory is typed arrays.
 * Windows of texts are signed on worker threads (`execution.workers`), each window's results
 * written at its own rows, so the arrays are the same for any number of workers.
 */
async function signCurrent(ctx: BarrierContext, hasher: MinHasher, np: NearParams, keyOpts: DedupKeyOptions, near: boolean, mayHold: boolean): Promise<Docs> {
  const reader = await ctx.store.instance.connect();
  let n = 0;
  let signedRows = 0;
  const total = Number((await reader.runAndReadAll(`SELECT count(*) FROM samples WHERE ${ALIVE}`)).getRows()[0]![0]);
  // Sized from the count on this same connection (nothing writes samples during a barrier stage), so the
  // arrays are never grown: at 4M rows a doubling held old and new copies at once.
  const uid = new Float64Array(total);
  const chars = new Int32Array(total);
  const keyHash = new BigUint64Array(total);
  const bands = new Uint32Array(near ? total * np.bands : 0);
  const hold = mayHold && total * np.numPerm <= HOLD_SHARE * timesFits(ctx.memory, 1);
  const prints = new Uint8Array(hold ? total * np.numPerm : 0);
  const params: SignParams = { ...np, key: keyOpts, near, hold };
  const threads = threadCount(ctx.workers);
  const pool = threads > 1 && total >= SIGN_POOL_MIN_ROWS ? openTaskPool<string[], Signed>(SIGN_WORKER, params, threads, 'the dedup stage') : null;
  const sign = async (texts: string[], at: number): Promise<void> => {
    const s = pool ? await pool.run(texts) : signTexts(texts, params, hasher);
    keyHash.set(s.keyHash, at);
    bands.set(s.bands, at * np.bands);
    prints.set(s.prints, at * np.numPerm);
    signedRows += texts.length;
    ctx.log.progress('dedup', signedRows, { done: signedRows, total, unit: 'rows' });
  };
  try {
    const windows = (async function* () {
      for await (const rows of rowsByUid(reader, 'uid, text_chars, text', ALIVE)) {
        if (n + rows.length > total) throw new Error(`dedup: more alive rows than the ${total} counted before signing (internal)`);
        rows.forEach((r, k) => {
          uid[n + k] = Number(r[0] as bigint);
          chars[n + k] = r[1] as number;
        });
        yield { texts: rows.map((r) => r[2] as string), at: n };
        n += rows.length;
      }
    })();
    await runConcurrent(windows, pool?.size ?? 1, (w) => sign(w.texts, w.at));
    ctx.log.endProgress();
  } finally {
    reader.closeSync();
    await pool?.close();
  }
  return {
    n,
    uid: uid.subarray(0, n),
    chars: chars.subarray(0, n),
    keyHash: keyHash.subarray(0, n),
    bandHashes: near ? bands.subarray(0, n * np.bands) : new Uint32Array(n * np.bands),
    fingerprints: prints.subarray(0, hold ? n * np.numPerm : 0),
  };
}

/**
 * Every alive row's key hash and band hashes, so `winnow merge` can cluster across shards without
 * signing every row again (it signs only the candidate pairs' rows, to verify them).
 */
async function writeSignatures(ctx: BarrierContext, docs: Docs, np: NearParams): Promise<void> {
  const c = ctx.store.conn;
  await c.run(`CREATE TABLE dedup_signatures (uid BIGINT, key_hash UBIGINT, bands UINTEGER[${np.bands}])`);
  const app = await c.createAppender('dedup_signatures');
  const types = [BIGINT, UBIGINT, ARRAY(UINTEGER, np.bands)];
  appendChunks(app, types, docs.n, (chunk, off, n) => {
    chunk.setColumnValues(
      0,
      Array.from(docs.uid.subarray(off, off + n), (u) => BigInt(u)),
    );
    chunk.setColumnValues(1, Array.from(docs.keyHash.subarray(off, off + n)));
    setArrayColumn(chunk, 2, docs.bandHashes.subarray(off * np.bands, (off + n) * np.bands));
  });
  app.closeSync();
}

/** The shards' signatures of the alive rows (merged and renumbered by `winnow merge`), in uid order. */
async function readSignatures(ctx: BarrierContext, np: NearParams, near: boolean): Promise<Docs> {
  const c = ctx.store.conn;
  const sql = `SELECT s.uid, s.text_chars, g.key_hash, g.bands FROM samples s JOIN dedup_signatures g USING (uid) WHERE ${alive('s')} ORDER BY s.uid`;
  const n = Number((await c.runAndReadAll(`SELECT count(*) FROM (${sql})`)).getRows()[0]![0]);
  const docs: Docs = {
    n,
    uid: new Float64Array(n),
    chars: new Int32Array(n),
    keyHash: new BigUint64Array(n),
    bandHashes: new Uint32Array(n * np.bands),
    fingerprints: new Uint8Array(0),
  };
  const result = await c.stream(sql);
  let i = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const uids = chunk.getColumnValues(0) as bigint[];
    const lens = chunk.getColumnValues(1) as number[];
    const hashes = chunk.getColumnValues(2) as bigint[];
    if (near) docs.bandHashes.set(readArrayColumn(chunk, 3), i * np.bands);
    for (let r = 0; r < chunk.rowCount; r++, i++) {
      docs.uid[i] = Number(uids[r]!);
      docs.chars[i] = lens[r]!;
      docs.keyHash[i] = hashes[r]!;
    }
  }
  return docs;
}

function concat<T extends Uint32Array | Uint8Array>(into: T, a: T, b: T): T {
  into.set(a, 0);
  into.set(b, a.length);
  return into;
}

/** The dedup keys of candidate documents, reading the texts of current rows back from the store. */
async function candidateKeys(ctx: BarrierContext, ids: Int32Array, P: number, prior: PriorIndex, docs: Docs, keyOpts: DedupKeyOptions): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const current: number[] = [];
  for (const i of ids) {
    if (i < P) out.set(i, dedupKey(prior.texts[i]!, keyOpts));
    else current.push(i);
  }
  if (current.length === 0) return out;
  const c = ctx.store.conn;
  await c.run('CREATE OR REPLACE TEMP TABLE dedup_candidates (uid BIGINT, i INTEGER)');
  const app = await c.createAppender('dedup_candidates');
  appendColumns(app, [BIGINT, BIGINT], [current.map((i) => BigInt(docs.uid[i - P]!)), current.map((i) => BigInt(i))]);
  app.closeSync();
  const result = await c.stream('SELECT d.i, s.text FROM dedup_candidates d JOIN samples s USING (uid)');
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const [is, texts] = chunk.getColumns() as [bigint[], string[]];
    for (let r = 0; r < chunk.rowCount; r++) out.set(Number(is[r]!), dedupKey(texts[r]!, keyOpts));
  }
  await c.run('DROP TABLE dedup_candidates');
  return out;
}

/** The kept rows (plus earlier runs' index, carried forward) for the next run's `against`. */
async function writeIndex(ctx: BarrierContext, docs: Docs, prior: PriorIndex, np: NearParams): Promise<void> {
  const c = ctx.store.conn;
  await c.run(`CREATE TABLE dedup_params AS SELECT ${np.numPerm} AS num_perm, ${np.bands} AS bands, ${np.rows} AS "rows", ${np.shingle} AS shingle, ${np.seed} AS seed`);
  // source and file say which input a kept row came from (null for rows carried from earlier runs).
  await c.run(`CREATE TABLE dedup_index (ord BIGINT, id VARCHAR, key_hash UBIGINT, text VARCHAR, bands UINTEGER[${np.bands}], source VARCHAR, file VARCHAR)`);
  const app = await c.createAppender('dedup_index');
  const types = [BIGINT, VARCHAR, UBIGINT, VARCHAR, ARRAY(UINTEGER, np.bands), VARCHAR, VARCHAR];
  const P = ctx.config.stages.dedup.carry_index ? prior.ids.length : 0;
  appendChunks(app, types, P, (chunk, off, n) => {
    chunk.setColumnValues(
      0,
      Array.from({ length: n }, (_, k) => BigInt(off + k)),
    );
    chunk.setColumnValues(1, prior.ids.slice(off, off + n));
    chunk.setColumnValues(2, prior.keyHash.slice(off, off + n));
    chunk.setColumnValues(3, prior.texts.slice(off, off + n));
    setArrayColumn(chunk, 4, prior.bandHashes!.subarray(off * np.bands, (off + n) * np.bands));
    chunk.setColumnValues(5, new Array<null>(n).fill(null));
    chunk.setColumnValues(6, new Array<null>(n).fill(null));
  });
  app.closeSync();
  // The current run's kept rows: their band hashes come from the signing pass, by uid position.
  await c.run(`CREATE TEMP TABLE dedup_bands (uid BIGINT, key_hash UBIGINT, bands UINTEGER[${np.bands}])`);
  const bapp = await c.createAppender('dedup_bands');
  appendChunks(bapp, [BIGINT, UBIGINT, ARRAY(UINTEGER, np.bands)], docs.n, (chunk, off, n) => {
    chunk.setColumnValues(
      0,
      Array.from(docs.uid.subarray(off, off + n), (u) => BigInt(u)),
    );
    chunk.setColumnValues(1, Array.from(docs.keyHash.subarray(off, off + n)));
    setArrayColumn(chunk, 2, docs.bandHashes.subarray(off * np.bands, (off + n) * np.bands));
  });
  bapp.closeSync();
  await c.run(`INSERT INTO dedup_index SELECT ${P} + row_number() OVER (ORDER BY s.uid), s.id, b.key_hash, s.text, b.bands, s.source, s.file
               FROM samples s JOIN dedup_bands b USING (uid) WHERE ${alive('s')}`);
  await c.run('DROP TABLE dedup_bands');
}
