import '../onnx/no-telemetry.js';
import PQueue from 'p-queue';

/**
 * A source of rewrites beyond the built-in operators: given texts, returns one rewrite per text, or
 * null for a text it could not rewrite (the stage skips and counts it). Implementations must not
 * throw for a single item's failure.
 */
export interface Generator {
  readonly name: string;
  generate(texts: string[], seed: number): Promise<(string | null)[]>;
  close?(): Promise<void>;
}

export interface HttpGeneratorOptions {
  /** Base URL of an OpenAI-compatible server (llama.cpp, vLLM), e.g. http://127.0.0.1:8080. */
  url: string;
  model: string;
  /** `{text}` is replaced by the text to rewrite. */
  prompt: string;
  maxTokens: number;
  temperature: number;
  timeoutMs: number;
  retries: number;
  concurrency: number;
}

/**
 * LLM rewrites through the `/v1/completions` route of an OpenAI-compatible server. Each request has
 * a timeout and is retried (exponential back-off) on network errors, timeouts and 5xx/429; at most
 * `concurrency` requests are in flight. An item that still fails yields null; failures are counted.
 */
export class HttpCompletionsGenerator implements Generator {
  readonly name = 'http';
  failures = 0;
  private readonly queue: PQueue;
  constructor(private readonly o: HttpGeneratorOptions) {
    this.queue = new PQueue({ concurrency: o.concurrency });
  }

  async generate(texts: string[], seed: number): Promise<(string | null)[]> {
    return Promise.all(texts.map((t, i) => this.queue.add(async () => this.one(t, seed + i)) as Promise<string | null>));
  }

  private async one(text: string, seed: number): Promise<string | null> {
    const endpoint = `${this.o.url.replace(/\/+$/, '')}/v1/completions`;
    const body = JSON.stringify({ model: this.o.model, prompt: this.o.prompt.replace('{text}', text), max_tokens: this.o.maxTokens, temperature: this.o.temperature, seed });
    for (let attempt = 0; attempt <= this.o.retries; attempt++) {
      try {
        const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(this.o.timeoutMs) });
        if (res.ok) {
          const json = (await res.json()) as { choices?: { text?: unknown }[] };
          const out = json.choices?.[0]?.text;
          if (typeof out === 'string' && out.trim().length > 0) return out.trim();
          break; // a well-formed empty answer will not improve on retry
        }
        if (res.status < 500 && res.status !== 429) break;
      } catch {
        // timeout or connection error: retry
      }
      if (attempt < this.o.retries) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
    this.failures++;
    return null;
  }
}

/**
 * Back-translation or paraphrase with a local ONNX seq2seq model (e.g. a Marian or NLLB export in
 * Hugging Face layout) through @huggingface/transformers, remote models disabled: texts go through
 * `forward` (e.g. into a pivot language) and, with `backward`, back again.
 */
export class Seq2SeqGenerator implements Generator {
  readonly name = 'seq2seq';
  private constructor(
    private readonly forward: (t: string[]) => Promise<(string | null)[]>,
    private readonly backward: ((t: string[]) => Promise<(string | null)[]>) | null,
  ) {}

  static async open(forwardDir: string, backwardDir?: string, maxLength = 256): Promise<Seq2SeqGenerator> {
    const tf = await import('@huggingface/transformers');
    tf.env.allowRemoteModels = false;
    tf.env.allowLocalModels = true;
    const load = async (dir: string): Promise<(t: string[]) => Promise<(string | null)[]>> => {
      const pipe = (await tf.pipeline('text2text-generation', dir)) as unknown as (t: string[], o: object) => Promise<{ generated_text: string }[]>;
      return async (texts) => {
        const out: (string | null)[] = [];
        for (const t of texts) {
          try {
            out.push((await pipe([t], { max_new_tokens: maxLength }))[0]?.generated_text ?? null);
          } catch {
            out.push(null);
          }
        }
        return out;
      };
    };
    return new Seq2SeqGenerator(await load(forwardDir), backwardDir ? await load(backwardDir) : null);
  }

  async generate(texts: string[]): Promise<(string | null)[]> {
    const pivot = await this.forward(texts);
    if (!this.backward) return pivot;
    const idx = pivot.map((p, i) => (p === null ? -1 : i)).filter((i) => i >= 0);
    const back = await this.backward(idx.map((i) => pivot[i]!));
    const out: (string | null)[] = texts.map(() => null);
    idx.forEach((i, k) => (out[i] = back[k] ?? null));
    return out;
  }
}
