import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { fmt, table, writeSection } from './report.js';

interface Child {
  mode: string;
  n: number;
  picks: number;
  seconds: number;
  maxRssMB: number;
  radius?: number;
  facility?: number;
  kcenter?: { rounds_seconds: number; plain_seconds: number; identical_picks: boolean; radius_rounds: number; radius_plain: number };
  hybrid_cold?: { exact_graph: number; clustered_graph: number };
  hybrid_warm?: { exact_graph: number; clustered_graph: number };
}

function child(mode: string, n: number, picks: number): Child {
  const script = fileURLToPath(new URL('./select-child.js', import.meta.url));
  return JSON.parse(execFileSync(process.execPath, [script, mode, String(n), String(picks)], { encoding: 'utf8', maxBuffer: 16 << 20 })) as Child;
}

/**
 * Selection at scale: 10% of n picked by k-center and by the hybrid (with 1% labelled rows and
 * with none), n = 25k, 50k, 100k x 256 dimensions, each in its own process for its peak RSS; and
 * the fast algorithms against exact ones on a 10k pool.
 */
export async function benchSelect(): Promise<void> {
  const rows: (string | number)[][] = [];
  const runs: Child[] = [];
  for (const n of [25_000, 50_000, 100_000]) {
    for (const mode of ['kcenter', 'hybrid', 'hybrid-cold']) {
      const r = child(mode, n, n / 10);
      runs.push(r);
      console.log(`  ${mode} n=${n}: ${r.seconds.toFixed(1)} s, ${r.maxRssMB.toFixed(0)} MB`);
      rows.push([
        mode,
        fmt(n),
        fmt(n / 10),
        r.seconds.toFixed(1),
        fmt(r.maxRssMB),
        ((r.maxRssMB * 1024) / n).toFixed(1),
        r.radius !== undefined ? `radius ${r.radius.toFixed(3)}` : `facility ${r.facility!.toFixed(4)}`,
      ]);
    }
  }
  const q = child('quality', 10_000, 1000);
  const k = q.kcenter!;
  const rel = (a: number, b: number): string => `${((100 * (a - b)) / b).toFixed(2)}%`;
  const at100k = (m: string): Child => runs.find((r) => r.mode === m && r.n === 100_000)!;
  writeSection(
    'select',
    `## Selection at scale

Seeded mixture of 1,000 Gaussian clusters, 256 dimensions, L2-normalized; 10% of the pool picked. \`hybrid\`
has 1% of the rows labelled (uncertainty by a 5-probe ensemble, then facility location over the 10x most
uncertain), \`hybrid-cold\` none (TypiClust over at most 500 k-means clusters). Above 20,000 rows the kNN
graph is the clustered (IVF) search. Each run in its own process; RSS includes the pool itself (100 MB at 100k).

100,000 x 256 choosing 10,000 (target <= 20 s each): **kcenter ${at100k('kcenter').seconds.toFixed(1)} s, hybrid ${at100k('hybrid').seconds.toFixed(1)} s, hybrid-cold ${at100k('hybrid-cold').seconds.toFixed(1)} s**.

${table(['strategy', 'rows', 'picks', 'seconds', 'peak RSS MB', 'KB per row', 'objective'], rows)}

Fast against exact on 10,000 rows choosing 1,000:

${table(
  ['algorithm', 'fast', 'exact', 'difference'],
  [
    ['k-center (rounds vs plain greedy), seconds', k.rounds_seconds.toFixed(2), k.plain_seconds.toFixed(2), `${(k.plain_seconds / k.rounds_seconds).toFixed(1)}x faster`],
    ['k-center covering radius', k.radius_rounds.toFixed(4), k.radius_plain.toFixed(4), k.identical_picks ? 'identical picks' : 'picks differ'],
    [
      'hybrid-cold facility value (clustered vs exact kNN graph)',
      q.hybrid_cold!.clustered_graph.toFixed(4),
      q.hybrid_cold!.exact_graph.toFixed(4),
      rel(q.hybrid_cold!.clustered_graph, q.hybrid_cold!.exact_graph),
    ],
    ['hybrid (1% labelled) facility value', q.hybrid_warm!.clustered_graph.toFixed(4), q.hybrid_warm!.exact_graph.toFixed(4), rel(q.hybrid_warm!.clustered_graph, q.hybrid_warm!.exact_graph)],
  ],
)}

k-center is exact: rounds take the farthest candidates and stop as soon as a candidate could be beaten by a
row outside the set, so they reproduce plain greedy pick for pick with one matrix product per round.`,
  );
}
