import { ALIVE, alive } from '../core/reasons.js';
import { BIGINT, INTEGER, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import { readEmbeddingColumn } from '../embed/vector-chunk.js';
import { assignClusters, fitKMeans } from '../math/kmeans.js';
import { transposeDense } from '../math/linalg.js';
import { MatMulKernel } from '../onnx/kernels.js';
import { appendColumns } from '../store/append.js';
import { hasTable } from '../store/catalog.js';
import type { BarrierContext, BarrierResult, BarrierStage } from './barrier.js';
import { addDupColumns } from './dedup-lexical.js';

/**
 * SemDeDup (Abbas et al. 2023): k-means on the embeddings, then inside each cluster, in keep-policy
 * order, a row whose cosine to an already kept row exceeds 1 - eps is a semantic duplicate of it.
 * Similarities are matrix products on onnxruntime. Pairs across languages are flagged
 * (dup_kind cross_lingual, both kept) or dropped, as configured. Memory: the k-means sample, one
 * chunk of rows, and one cluster at a time.
 */
export const semanticDedupStage: BarrierStage = {
  name: 'semantic_dedup',
  enabled: (p) => p.stages.dedup.semantic.enabled && p.stages.embed.enabled,
  writes: ['semantic_assign', 'dup_clusters', 'samples.dup_cluster', 'samples.dup_kind', 'samples.dup_of'],
  run: runSemanticDedup,
};

async function readVectors(conn: DuckDBConnection, sql: string, onChunk: (uids: bigint[], extra: unknown[][], vectors: Float32Array, rows: number) => Promise<void>): Promise<void> {
  const result = await conn.stream(sql);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const cols = chunk.columnCount;
    const vectors = readEmbeddingColumn(chunk, cols - 1);
    const extra: unknown[][] = [];
    for (let j = 1; j < cols - 1; j++) extra.push(chunk.getColumnValues(j));
    await onChunk(chunk.getColumnValues(0) as bigint[], extra, vectors, chunk.rowCount);
  }
}

async function runSemanticDedup(ctx: BarrierContext): Promise<BarrierResult> {
  const t0 = performance.now();
  const cfg = ctx.config.stages.dedup;
  const sem = cfg.semantic;
  const c = ctx.store.conn;
  // Nothing reached the embed stage: nothing to deduplicate.
  if (!(await hasTable(c, 'embedding_model'))) return { counters: { stage: 'semantic_dedup', in: 0, out: 0, rejected: {}, seconds: 0 } };
  const [[dimRaw]] = (await c.runAndReadAll('SELECT dim FROM embedding_model')).getRows() as [[number]];
  const d = Number(dimRaw);
  const n = Number((await c.runAndReadAll(`SELECT count(*) FROM samples WHERE ${ALIVE}`)).getRows()[0]![0]);
  const counters = { stage: 'semantic_dedup', in: n, out: n, rejected: {} as Record<string, number>, seconds: 0 };
  if (n < 2) return { counters };
  const kernel = await MatMulKernel.open(ctx.config.stages.embed.device === 'cuda' ? 'cuda' : 'cpu');
  const reader = await ctx.store.instance.connect();
  try {
    const k = sem.clusters > 0 ? sem.clusters : Math.max(1, Math.round(Math.sqrt(n)));
    // Fit on an even stride of at most 50k rows.
    const stride = Math.max(1, Math.ceil(n / 50_000));
    const sample: Float32Array[] = [];
    await readVectors(
      reader,
      `SELECT uid, embedding FROM (SELECT s.uid, e.embedding, row_number() OVER (ORDER BY s.uid) - 1 AS i FROM samples s JOIN embeddings e USING (uid) WHERE ${alive('s')}) WHERE i % ${stride} = 0 ORDER BY uid`,
      async (_u, _e, v) => {
        sample.push(v);
      },
    );
    const sn = sample.reduce((a, v) => a + v.length / d, 0);
    const xs = new Float32Array(sn * d);
    let off = 0;
    for (const v of sample) {
      xs.set(v, off);
      off += v.length;
    }
    const { centroids } = await fitKMeans(xs, sn, d, k, kernel, { seed: ctx.config.seed });

    await c.run('CREATE TABLE semantic_assign (uid BIGINT, cluster INTEGER)');
    const app = await c.createAppender('semantic_assign');
    await readVectors(reader, `SELECT s.uid, e.embedding FROM samples s JOIN embeddings e USING (uid) WHERE ${alive('s')} ORDER BY s.uid`, async (uids, _e, v, rows) => {
      const assign = await assignClusters(v, rows, d, centroids, k, kernel);
      appendColumns(app, [BIGINT, INTEGER], [uids, Array.from(assign)]);
    });
    app.closeSync();

    // Walk the clusters in keep-policy order; a row joins the first kept row it is too close to.
    const order = cfg.keep === 'longest' ? 's.text_chars DESC, s.uid' : 's.uid';
    const threshold = 1 - sem.eps;
    const res = { uid: [] as bigint[], rep: [] as bigint[], kind: [] as string[], detail: [] as string[] };
    let current = -1;
    let members: { uid: bigint; lang: string | null; v: Float32Array }[] = [];
    const flush = async (): Promise<void> => {
      if (members.length > 1) await greedy(members, d, threshold, sem.cross_lingual, kernel, res);
      members = [];
    };
    await readVectors(
      reader,
      `SELECT s.uid, a.cluster, s.lang, e.embedding FROM samples s JOIN semantic_assign a USING (uid) JOIN embeddings e USING (uid) WHERE ${alive('s')} ORDER BY a.cluster, ${order}`,
      async (uids, [clusters, langs], v, rows) => {
        for (let r = 0; r < rows; r++) {
          const cl = Number(clusters![r]);
          if (cl !== current) {
            await flush();
            current = cl;
          }
          members.push({ uid: uids[r]!, lang: (langs![r] as string | null) ?? null, v: v.slice(r * d, r * d + d) });
        }
      },
    );
    await flush();
    await c.run('DROP TABLE semantic_assign');

    await c.run('CREATE TEMP TABLE semantic_result (uid BIGINT, rep BIGINT, kind VARCHAR, detail VARCHAR)');
    const rapp = await c.createAppender('semantic_result');
    appendColumns(rapp, [BIGINT, BIGINT, VARCHAR, VARCHAR], [res.uid, res.rep, res.kind, res.detail]);
    rapp.closeSync();
    for (const kind of res.kind) {
      if (kind === 'semantic') {
        counters.rejected.semantic_dup = (counters.rejected.semantic_dup ?? 0) + 1;
        counters.out--;
      }
    }
    // The kept row leads the cluster; rows that pointed at a row now dropped follow it to its leader.
    await addDupColumns(c);
    await c.run(`
      UPDATE samples SET dup_cluster = r.rep, dup_kind = r.kind,
        dup_of = (SELECT s2.id FROM samples s2 WHERE s2.uid = r.rep),
        status = CASE WHEN r.kind = 'semantic' THEN 'rejected' ELSE samples.status END,
        reason = CASE WHEN r.kind = 'semantic' THEN 'semantic_dup' ELSE samples.reason END,
        reason_detail = CASE WHEN r.kind = 'semantic' THEN r.detail || ' ' || (SELECT s2.id FROM samples s2 WHERE s2.uid = r.rep) ELSE samples.reason_detail END
      FROM semantic_result r WHERE samples.uid = r.uid;
      UPDATE samples SET dup_cluster = r.rep, dup_of = (SELECT s2.id FROM samples s2 WHERE s2.uid = r.rep)
      FROM semantic_result r WHERE samples.dup_cluster = r.uid AND samples.uid <> r.uid AND r.kind = 'semantic';
      UPDATE samples SET dup_cluster = uid WHERE uid IN (SELECT rep FROM semantic_result) AND dup_cluster IS NULL;
      DROP TABLE semantic_result;`);
    counters.seconds = (performance.now() - t0) / 1000;
    return {
      counters,
      manifest: {
        clusters: k,
        eps: sem.eps,
        cross_lingual: sem.cross_lingual,
        removed: counters.rejected.semantic_dup ?? 0,
        flagged_cross_lingual: res.kind.filter((x) => x === 'cross_lingual').length,
      },
    };
  } finally {
    reader.closeSync();
    await kernel.release();
  }
}

/** Greedy SemDeDup inside one cluster, in blocks: each block against the kept rows, then within itself. */
async function greedy(
  members: { uid: bigint; lang: string | null; v: Float32Array }[],
  d: number,
  threshold: number,
  crossLingual: 'drop' | 'flag',
  kernel: MatMulKernel,
  out: { uid: bigint[]; rep: bigint[]; kind: string[]; detail: string[] },
): Promise<void> {
  const kept: number[] = [];
  const B = 512;
  for (let s = 0; s < members.length; s += B) {
    const block = members.slice(s, s + B);
    const xb = new Float32Array(block.length * d);
    block.forEach((m, i) => xb.set(m.v, i * d));
    const keptSim = kept.length > 0 ? await kernel.run(xb, block.length, d, keptMatrixT(members, kept, d), kept.length) : null;
    const selfSim = await kernel.run(xb, block.length, d, transposeDense(xb, block.length, d), block.length);
    const keptInBlock: number[] = [];
    for (let i = 0; i < block.length; i++) {
      let best = -Infinity;
      let bestIdx = -1;
      if (keptSim) {
        for (let j = 0; j < kept.length; j++) {
          if (keptSim[i * kept.length + j]! > best) {
            best = keptSim[i * kept.length + j]!;
            bestIdx = kept[j]!;
          }
        }
      }
      for (const j of keptInBlock) {
        if (selfSim[i * block.length + j]! > best) {
          best = selfSim[i * block.length + j]!;
          bestIdx = s + j;
        }
      }
      const me = members[s + i]!;
      if (bestIdx >= 0 && best > threshold) {
        const other = members[bestIdx]!;
        const cross = me.lang !== null && other.lang !== null && me.lang !== other.lang;
        const kind = cross && crossLingual === 'flag' ? 'cross_lingual' : 'semantic';
        out.uid.push(me.uid);
        out.rep.push(other.uid);
        out.kind.push(kind);
        out.detail.push(`cosine=${best.toFixed(3)} with`);
        if (kind === 'semantic') continue;
      }
      keptInBlock.push(i);
    }
    for (const j of keptInBlock) kept.push(s + j);
  }
}

function keptMatrixT(members: { v: Float32Array }[], kept: number[], d: number): Float32Array {
  const t = new Float32Array(d * kept.length);
  kept.forEach((m, j) => {
    const v = members[m]!.v;
    for (let c = 0; c < d; c++) t[c * kept.length + j] = v[c]!;
  });
  return t;
}
