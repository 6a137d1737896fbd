import { UnionFind } from '../dedup/union-find.js';

/** One labelling task: the sources whose labels share a label space, and their labelled rows. */
export interface LabelTask {
  name: string;
  sources: string[];
  classes: string[];
  /** Pool rows labelled in this task, and their class ids (into `classes`). */
  labelled: Int32Array;
  y: Int32Array;
}

/**
 * Splits a pool's labels into tasks. Sources naming the same `label_set` form one task; the other
 * labelled sources form one task with every source whose label values overlap theirs (SIB-200's
 * topics and AfriSenti's sentiments share no value, so they train two probes, not one over both).
 */
export function labelTasks(labels: readonly (string | null)[], sources: readonly string[], labelSet: ReadonlyMap<string, string>): LabelTask[] {
  const vocab = new Map<string, Set<string>>();
  labels.forEach((l, i) => {
    if (l === null) return;
    const s = sources[i]!;
    if (!vocab.has(s)) vocab.set(s, new Set());
    vocab.get(s)!.add(l);
  });
  const names = [...vocab.keys()].sort();
  const uf = new UnionFind(names.length);
  for (let a = 0; a < names.length; a++) {
    for (let b = a + 1; b < names.length; b++) {
      const sa = labelSet.get(names[a]!);
      const sb = labelSet.get(names[b]!);
      const same = sa !== undefined || sb !== undefined ? sa === sb : [...vocab.get(names[a]!)!].some((l) => vocab.get(names[b]!)!.has(l));
      if (same) uf.union(a, b);
    }
  }
  const groups = new Map<number, string[]>();
  names.forEach((s, i) => groups.set(uf.find(i), [...(groups.get(uf.find(i)) ?? []), s]));
  return [...groups.values()].map((members) => taskOf(members, labels, sources, labelSet));
}

function taskOf(members: string[], labels: readonly (string | null)[], sources: readonly string[], labelSet: ReadonlyMap<string, string>): LabelTask {
  const inTask = new Set(members);
  const rows: number[] = [];
  labels.forEach((l, i) => {
    if (l !== null && inTask.has(sources[i]!)) rows.push(i);
  });
  const classes = [...new Set(rows.map((i) => labels[i]!))].sort();
  const index = new Map(classes.map((c, k) => [c, k]));
  return {
    name: labelSet.get(members[0]!) ?? members.join('+'),
    sources: members,
    classes,
    labelled: Int32Array.from(rows),
    y: Int32Array.from(rows, (i) => index.get(labels[i]!)!),
  };
}
