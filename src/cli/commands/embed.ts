import { existsSync } from 'node:fs';
import { cp, mkdtemp, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { defaultPipeline } from '../../config/default-pipeline.js';
import { overlay } from '../../config/overlay.js';
import { ConfigError } from '../../core/errors.js';
import { MODEL_DIR, runPipeline } from '../../pipeline/run.js';
import { quoteLiteral } from '../../store/sql.js';
import { commitDir, tempPathFor } from '../../emit/atomic.js';
import { createLogger } from '../../util/log.js';
import { MEMORY_HELP } from './run.js';

interface EmbedFlags {
  input: string[];
  textColumn?: string;
  idColumn?: string;
  model: string;
  device: string;
  dtype: string;
  out: string;
  cache?: boolean;
  saveModel?: string;
  memory?: string;
}

export function registerEmbed(program: Command): void {
  program
    .command('embed')
    .description('embed a corpus and write id + embedding per row to Parquet, for use by other tools')
    .requiredOption('--input <path...>', 'file, folder or glob to read (repeatable)')
    .option('--text-column <name>', 'column holding the text (default: text)')
    .option('--id-column <name>', 'column holding a stable id (default: "id" where a row has one, else derived from source, file and row)')
    .option('--model <model>', 'builtin (fitted to this corpus), a model directory, or a Hugging Face Hub id', 'builtin')
    .option('--device <device>', 'auto, cpu or cuda', 'auto')
    .option('--dtype <dtype>', 'float32 or float16 (stored as uint16 bit patterns)', 'float32')
    .option('--no-cache', 'do not read or write the embedding cache')
    .option('--save-model <dir>', 'keep the fitted built-in encoder in DIR (for stages.embed.model, e.g. shared by the shards of a job)')
    .option('--memory <size>', MEMORY_HELP)
    .requiredOption('--out <file.parquet>', 'Parquet file to write')
    .addHelpText('after', '\nExample:\n  winnow embed --input "corpus/*.jsonl" --id-column doc_id --out embeddings.parquet\n')
    .action(async (flags: EmbedFlags) => {
      if (!['auto', 'cpu', 'cuda'].includes(flags.device)) throw new ConfigError(`--device must be auto, cpu or cuda (got "${flags.device}")`);
      if (!['float32', 'float16'].includes(flags.dtype)) throw new ConfigError(`--dtype must be float32 or float16 (got "${flags.dtype}")`);
      // Every row with usable text gets a vector: no filtering, dedup or token counting here.
      const loaded = overlay(
        defaultPipeline({ input: flags.input, textColumn: flags.textColumn, idColumn: flags.idColumn }),
        {
          stages: {
            langid: { enabled: false },
            quality: { enabled: false },
            dedup: { exact: { enabled: false }, near: { enabled: false } },
            budget: { tokenizer: 'none' },
            embed: { model: flags.model, device: flags.device, dtype: flags.dtype, cache: flags.cache !== false },
          },
        },
        'winnow embed',
      );
      const log = createLogger();
      const work = await mkdtemp(path.join(os.tmpdir(), 'winnow-embed-'));
      const out = path.resolve(flags.out);
      const tmp = path.join(path.dirname(out), `.${path.basename(out)}.partial-${process.pid}`);
      try {
        const summary = await runPipeline(loaded, {
          outDir: work,
          log,
          memory: flags.memory,
          onStore: async (store) => {
            const [[fingerprint, model]] = (await store.conn.runAndReadAll('SELECT fingerprint, description FROM embedding_model')).getRows() as [[string, string]];
            await store.conn.run(
              `COPY (SELECT s.id, e.embedding FROM samples s JOIN embeddings e USING (uid) ORDER BY s.uid) TO ${quoteLiteral(tmp)}
               (FORMAT parquet, COMPRESSION zstd, KV_METADATA {winnow_model_fingerprint: ${quoteLiteral(fingerprint)}, winnow_model: ${quoteLiteral(model)}, winnow_dtype: ${quoteLiteral(flags.dtype)}})`,
            );
          },
        });
        await rename(tmp, out);
        if (flags.saveModel) {
          const fitted = path.join(work, MODEL_DIR);
          if (!existsSync(fitted)) throw new ConfigError(`--save-model: --model ${flags.model} is not fitted by the run; point stages.embed.model at it directly`);
          const dest = path.resolve(flags.saveModel);
          const partial = tempPathFor(dest);
          await cp(fitted, partial, { recursive: true });
          await commitDir(partial, dest);
          log.info(`saved the fitted encoder to ${flags.saveModel} (use it as stages.embed.model: ${flags.saveModel})`);
        }
        const skipped = summary.counts.input - summary.counts.selected;
        log.info(`wrote ${summary.counts.selected} embeddings to ${flags.out}${skipped > 0 ? ` (${skipped} rows had no usable text: ${JSON.stringify(summary.counts.rejected)})` : ''}`);
      } finally {
        await rm(tmp, { force: true });
        await rm(work, { recursive: true, force: true });
      }
    });
}
