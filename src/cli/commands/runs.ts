import { ALIVE } from '../../core/reasons.js';
import path from 'node:path';
import type { Command } from 'commander';
import { StateStore, type RunRow } from '../../jobs/state-store.js';

/** `winnow runs <state>`: the history of an incremental job, one line per run. */
export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('list the runs of an incremental job (winnow run --state DIR): status, files, rows and where the output is')
    .argument('<state>', 'the state folder given to winnow run --state')
    .option('--json', 'print the runs and totals as JSON')
    .action(async (stateDir: string, flags: { json?: boolean }) => {
      const state = await StateStore.open(path.resolve(stateDir), { create: false });
      try {
        const runs = await state.runs();
        const [totals] = await state.rows<{ read: number; current: number; superseded: number; selected: number }>(
          `SELECT count(*)::BIGINT AS read, count(*) FILTER (superseded_by IS NULL)::BIGINT AS current,
                  count(*) FILTER (superseded_by IS NOT NULL)::BIGINT AS superseded,
                  count(*) FILTER (superseded_by IS NULL AND ${ALIVE})::BIGINT AS selected FROM ledger`,
        );
        const t = Object.fromEntries(Object.entries(totals!).map(([k, v]) => [k, Number(v)])) as Record<string, number>;
        if (flags.json) {
          process.stdout.write(JSON.stringify({ runs, totals: t }) + '\n');
          return;
        }
        process.stdout.write(formatRuns(runs, t, path.resolve(stateDir)));
      } finally {
        state.close();
      }
    });
}

function formatRuns(runs: RunRow[], t: Record<string, number>, stateDir: string): string {
  const n = (x: number | null): string => (x === null ? '-' : Number(x).toLocaleString('en-US'));
  const head = ['run', 'status', 'started (UTC)', 'files new/chg/same', 'rows read', 'selected', 'rejected', 'superseded', 'output'];
  const rows = runs.map((r) => [
    String(r.seq),
    r.status,
    r.started_at.slice(0, 19),
    `${r.new_files}/${r.changed_files}/${r.unchanged_files}${r.missing_files ? ` (${r.missing_files} gone)` : ''}`,
    n(r.input_rows),
    n(r.selected_rows),
    n(r.rejected_rows),
    n(r.superseded_rows),
    r.out_dir ? path.relative(stateDir, r.out_dir) : '-',
  ]);
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, k) => c.padEnd(widths[k]!))
      .join('  ')
      .trimEnd();
  return [
    line(head),
    ...rows.map(line),
    '',
    `rows read ${n(t.read!)} = ${n(t.current!)} current + ${n(t.superseded!)} superseded (earlier versions of changed files); ${n(t.selected!)} current rows selected`,
    '',
  ].join('\n');
}
