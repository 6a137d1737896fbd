import { ConfigError } from '../core/errors.js';

export interface ShardSpec {
  /** 0-based. */
  index: number;
  count: number;
}

/** `--shard i/n` with 0 <= i < n; also reads JOB_COMPLETION_INDEX-style values given as "$I/n". */
export function parseShard(spec: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
  if (!m) throw new ConfigError(`--shard must look like i/n with 0 <= i < n, e.g. --shard 0/4 (got "${spec}")`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) throw new ConfigError(`--shard ${spec}: the index must be below the count (0-based: 0/${count} to ${count - 1}/${count})`);
  return { index, count };
}

/**
 * Which shard reads each file (keyed by source and path relative to the source, which do not depend
 * on where a machine mounts the data): largest files first, each to the shard with the fewest bytes so far
 * (ties to the lower index). Every shard computes the same assignment from the same listing, with
 * no coordination; whole files keep row order and derived ids identical to a single-process run.
 */
export function assignFiles(files: readonly { key: string; size: number }[], count: number): Map<string, number> {
  const order = [...files].sort((a, b) => b.size - a.size || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const load = new Array<number>(count).fill(0);
  const out = new Map<string, number>();
  for (const f of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s]! < load[best]!) best = s;
    out.set(f.key, best);
    load[best]! += f.size;
  }
  return out;
}
