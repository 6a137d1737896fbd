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
  /** A larger answer is a failure: a misconfigured endpoint must not exhaust memory. */
  maxResponseBytes: number;
  /** After this many items failed in a row the endpoint is not called again in this run. */
  maxConsecutiveFailures: number;
}

class ItemFailure extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

/**
 * LLM rewrites through the `/v1/completions` route of an OpenAI-compatible server. Each request has
 * a timeout and is retried (exponential back-off) on network errors, timeouts and 5xx/429; at most
 * `concurrency` requests are in flight. An item that still fails yields null; failures are counted.
 * An answer over `maxResponseBytes` is a failure (read no further), and after
 * `maxConsecutiveFailures` failed items in a row the endpoint is given up for the run (`stopped`
 * says why): a hanging server then costs a few timeouts, not one per row.
 */
export class HttpCompletionsGenerator implements Generator {
  readonly name = 'http';
  failures = 0;
  /** Why the endpoint was given up, or null while it is in use. */
  stopped: string | null = null;
  private consecutive = 0;
  private readonly queue: PQueue;
  constructor(private readonly o: HttpGeneratorOptions) {
    this.queue = new PQueue({ concurrency: o.concurrency });
  }

  async generate(texts: string[], seed: number): Promise<(string | null)[]> {
    return Promise.all(texts.map((t, i) => this.queue.add(async () => this.one(t, seed + i)) as Promise<string | null>));
  }

  private async one(text: string, seed: number): Promise<string | null> {
    if (this.stopped !== null) {
      this.failures++;
      return null;
    }
    let last = '';
    for (let attempt = 0; attempt <= this.o.retries; attempt++) {
      try {
        const out = await this.request(text, seed);
        this.consecutive = 0;
        return out;
      } catch (err) {
        last = err instanceof ItemFailure ? err.message : `${(err as Error).name === 'TimeoutError' ? `no answer within ${this.o.timeoutMs} ms` : (err as Error).message}`;
        if (err instanceof ItemFailure && !err.retry) break;
      }
      if (attempt < this.o.retries) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
    this.failures++;
    if (++this.consecutive >= this.o.maxConsecutiveFailures && this.stopped === null) this.stopped = `${this.consecutive} items failed in a row (last: ${last})`;
    return null;
  }

  /** One request: the rewrite, null for a well-formed empty answer (not retried), or an ItemFailure. */
  private async request(text: string, seed: number): Promise<string | null> {
    const endpoint = `${this.o.url.replace(/\/+$/, '')}/v1/completions`;
    const body = JSON.stringify({ model: this.o.model, prompt: this.o.prompt.replace('{text}', text), max_tokens: this.o.maxTokens, temperature: this.o.temperature, seed });
    const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(this.o.timeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      throw new ItemFailure(`HTTP ${res.status}`, res.status >= 500 || res.status === 429);
    }
    let json: { choices?: { text?: unknown }[] };
    try {
      json = JSON.parse(await readCapped(res, this.o.maxResponseBytes)) as typeof json;
    } catch (err) {
      if (err instanceof ItemFailure) throw err;
      throw new ItemFailure(`the answer is not JSON (${(err as Error).message})`, false);
    }
    const out = json.choices?.[0]?.text;
    return typeof out === 'string' && out.trim().length > 0 ? out.trim() : null;
  }
}

/** A response body as text, refused (without reading the rest) once it passes `cap` bytes. */
async function readCapped(res: Response, cap: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  const tooLarge = (): ItemFailure => new ItemFailure(`the answer is larger than max_response_bytes (${cap})`, false);
  if (declared > cap) {
    await res.body?.cancel();
    throw tooLarge();
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const part of res.body ?? []) {
    total += part.length;
    if (total > cap) {
      await res.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    parts.push(part);
  }
  return Buffer.concat(parts).toString('utf8');
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
