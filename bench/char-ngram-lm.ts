/**
 * A character n-gram language model with interpolated Witten-Bell smoothing (Witten & Bell 1991;
 * Chen & Goodman 1998, section 2.4), the value benchmark's stand-in for "training a model on the
 * selection": its bits per character on held-out clean text say how much of the language the
 * training text taught it.
 */
export class CharNgramLm {
  /** Count of (context + symbol) keys, every order. */
  private readonly joint = new Map<string, number>();
  /** Per context: tokens seen after it, and distinct symbols seen after it. */
  private readonly ctx = new Map<string, { total: number; types: number }>();
  private readonly unigram = new Map<string, number>();
  private tokens = 0;

  constructor(readonly order = 5) {}

  fit(texts: Iterable<string>): this {
    for (const t of texts) {
      const s = this.symbols(t);
      for (let i = this.order - 1; i < s.length; i++) {
        const c = s[i]!;
        this.unigram.set(c, (this.unigram.get(c) ?? 0) + 1);
        this.tokens++;
        for (let k = 1; k < this.order; k++) {
          const h = s.slice(i - k, i).join('');
          const key = `${h}\u0000${c}`;
          const seen = this.joint.get(key) ?? 0;
          this.joint.set(key, seen + 1);
          const stats = this.ctx.get(h) ?? { total: 0, types: 0 };
          stats.total++;
          if (seen === 0) stats.types++;
          this.ctx.set(h, stats);
        }
      }
    }
    return this;
  }

  /** Bits per symbol (each character and the end of each text) over `texts`; `vocab` sizes the base. */
  bitsPerChar(texts: Iterable<string>, vocab: number): number {
    let bits = 0;
    let n = 0;
    for (const t of texts) {
      const s = this.symbols(t);
      for (let i = this.order - 1; i < s.length; i++) {
        bits -= Math.log2(this.prob(s, i, vocab));
        n++;
      }
    }
    return bits / Math.max(n, 1);
  }

  private prob(s: string[], i: number, vocab: number): number {
    const c = s[i]!;
    let p = ((this.unigram.get(c) ?? 0) + 1) / (this.tokens + vocab);
    for (let k = 1; k < this.order; k++) {
      const h = s.slice(i - k, i).join('');
      const stats = this.ctx.get(h);
      if (!stats) break; // a longer context containing an unseen one is unseen too
      p = ((this.joint.get(`${h}\u0000${c}`) ?? 0) + stats.types * p) / (stats.total + stats.types);
    }
    return p;
  }

  /** Code points, padded with order-1 start marks and one end mark. */
  private symbols(text: string): string[] {
    return [...new Array<string>(this.order - 1).fill('\u0002'), ...Array.from(text), '\u0003'];
  }
}
