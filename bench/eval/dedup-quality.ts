export interface TruthDoc {
  id: string;
  cluster: string | number;
}

export interface TruthPair {
  a: string;
  b: string;
  label: number;
  kind: string;
}

export interface DedupScores {
  /** Of all document pairs placed in one predicted cluster, the share that share a true cluster. */
  precision: number;
  predictedPairs: number;
  /** Per pair kind: how many pairs, and the share predicted in one cluster. */
  byKind: Record<string, { pairs: number; merged: number; rate: number }>;
}

/**
 * Pairwise scores of predicted duplicate clusters against ground truth (neardup-sentences): pairwise
 * precision over every predicted same-cluster pair, and per pair kind the merge rate (recall for
 * positive kinds, false-merge rate for negative ones).
 */
export function scoreClusters(docs: readonly TruthDoc[], predicted: Map<string, string | null>, pairs: readonly TruthPair[]): DedupScores {
  const truth = new Map(docs.map((d) => [d.id, String(d.cluster)]));
  const members = new Map<string, string[]>();
  for (const d of docs) {
    const c = predicted.get(d.id);
    if (c === null || c === undefined) continue;
    const list = members.get(c) ?? [];
    list.push(d.id);
    members.set(c, list);
  }
  let predictedPairs = 0;
  let correct = 0;
  for (const list of members.values()) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        predictedPairs++;
        if (truth.get(list[i]!) === truth.get(list[j]!)) correct++;
      }
    }
  }
  const byKind: DedupScores['byKind'] = {};
  for (const p of pairs) {
    const k = (byKind[p.kind] ??= { pairs: 0, merged: 0, rate: 0 });
    k.pairs++;
    const ca = predicted.get(p.a);
    if (ca !== null && ca !== undefined && ca === predicted.get(p.b)) k.merged++;
  }
  for (const k of Object.values(byKind)) k.rate = k.pairs === 0 ? 0 : k.merged / k.pairs;
  return { precision: predictedPairs === 0 ? 1 : correct / predictedPairs, predictedPairs, byKind };
}
