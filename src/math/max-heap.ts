/** Binary max-heap of (key, id), ties broken by the lower id. */
export class MaxHeap {
  private readonly ids: Int32Array;
  private readonly keys: Float64Array;
  size = 0;
  constructor(capacity: number) {
    this.ids = new Int32Array(capacity);
    this.keys = new Float64Array(capacity);
  }
  private above(a: number, b: number): boolean {
    return this.keys[a]! > this.keys[b]! || (this.keys[a] === this.keys[b] && this.ids[a]! < this.ids[b]!);
  }
  private swap(a: number, b: number): void {
    const i = this.ids[a]!;
    const k = this.keys[a]!;
    this.ids[a] = this.ids[b]!;
    this.keys[a] = this.keys[b]!;
    this.ids[b] = i;
    this.keys[b] = k;
  }
  push(id: number, key: number): void {
    let p = this.size++;
    this.ids[p] = id;
    this.keys[p] = key;
    while (p > 0) {
      const parent = (p - 1) >> 1;
      if (!this.above(p, parent)) break;
      this.swap(p, parent);
      p = parent;
    }
  }
  topKey(): number {
    return this.keys[0]!;
  }
  pop(): number {
    const top = this.ids[0]!;
    this.size--;
    if (this.size > 0) {
      this.ids[0] = this.ids[this.size]!;
      this.keys[0] = this.keys[this.size]!;
      let p = 0;
      for (;;) {
        const l = 2 * p + 1;
        const r = l + 1;
        let best = p;
        if (l < this.size && this.above(l, best)) best = l;
        if (r < this.size && this.above(r, best)) best = r;
        if (best === p) break;
        this.swap(p, best);
        p = best;
      }
    }
    return top;
  }
}
