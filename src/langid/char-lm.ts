/**
 * A character n-gram language model (orders 1..order, fixed-weight interpolation with a uniform
 * floor). Fitted on a few hundred sentences of a language it scores how much a text looks like
 * that language; the log-likelihood ratio against a model of the whole corpus is the corpus-adapted
 * language ID that works for languages no packaged identifier knows.
 */
export class CharLm {
  private readonly counts: Map<string, number>[];
  private readonly contexts: Map<string, number>[];
  private readonly weights: number[];
  private vocab = new Set<string>();

  constructor(readonly order = 4) {
    this.counts = Array.from({ length: order }, () => new Map());
    this.contexts = Array.from({ length: order }, () => new Map());
    // Longer contexts weigh more; the rest goes to shorter ones and a uniform floor.
    const raw = Array.from({ length: order }, (_, n) => Math.pow(2, n));
    const sum = raw.reduce((a, b) => a + b, 0);
    this.weights = raw.map((w) => (0.97 * w) / sum);
  }

  static prepare(text: string): string {
    return ` ${text.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim()} `;
  }

  fit(texts: Iterable<string>): this {
    for (const raw of texts) {
      const t = CharLm.prepare(raw);
      for (let i = 0; i < t.length; i++) {
        this.vocab.add(t[i]!);
        for (let n = 0; n < this.order && n <= i; n++) {
          const ctx = t.slice(i - n, i);
          const key = ctx + '\u0000' + t[i];
          this.counts[n]!.set(key, (this.counts[n]!.get(key) ?? 0) + 1);
          this.contexts[n]!.set(ctx, (this.contexts[n]!.get(ctx) ?? 0) + 1);
        }
      }
    }
    return this;
  }

  /**
   * Mean natural-log probability per character. With `excludeSelf` the text's own n-grams are taken
   * out of the counts first (leave-one-out): a model fitted on a corpus must not score the corpus's
   * texts as if it had never seen them memorized.
   */
  logProbPerChar(raw: string, excludeSelf = false, vocabSize = 256): number {
    const t = CharLm.prepare(raw);
    const own = excludeSelf ? new CharLm(this.order).fit([raw]) : null;
    let total = 0;
    for (let i = 1; i < t.length; i++) {
      let p = 0.03 / vocabSize;
      for (let n = 0; n < this.order && n <= i; n++) {
        const ctx = t.slice(i - n, i);
        const key = ctx + '\u0000' + t[i];
        const c = (this.contexts[n]!.get(ctx) ?? 0) - (own?.contexts[n]!.get(ctx) ?? 0);
        if (c <= 0) continue;
        p += this.weights[n]! * (((this.counts[n]!.get(key) ?? 0) - (own?.counts[n]!.get(key) ?? 0)) / c);
      }
      total += Math.log(p);
    }
    return total / Math.max(1, t.length - 1);
  }
}

/**
 * Scores texts by log-likelihood ratio per character between a reference model (the target
 * language) and a background model (the corpus): above `threshold` means "in the language".
 */
export class ReferenceLanguageModel {
  constructor(
    private readonly reference: CharLm,
    private readonly background: CharLm,
  ) {}

  static fit(reference: readonly string[], background: readonly string[], order = 4): ReferenceLanguageModel {
    return new ReferenceLanguageModel(new CharLm(order).fit(reference), new CharLm(order).fit(background));
  }

  /** Log-likelihood ratio per character; `inBackground` when the text is one the background was fitted on. */
  score(text: string, inBackground = true): number {
    return this.reference.logProbPerChar(text) - this.background.logProbPerChar(text, inBackground);
  }
}
