/**
 * Limited-memory BFGS (Nocedal & Wright, algorithm 7.4) with a backtracking Armijo line search, for
 * smooth convex objectives such as the softmax probe. Deterministic.
 */
export function lbfgs(
  f: (x: Float64Array, grad: Float64Array) => number,
  x0: Float64Array,
  opts: { maxIter?: number; memory?: number; tolerance?: number } = {},
): { x: Float64Array; value: number; iterations: number } {
  const n = x0.length;
  const m = opts.memory ?? 10;
  const tol = opts.tolerance ?? 1e-6;
  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  let fx = f(x, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const dir = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  const alpha = new Float64Array(m);
  let iter = 0;
  for (; iter < (opts.maxIter ?? 200); iter++) {
    let gnorm = 0;
    for (let i = 0; i < n; i++) gnorm = Math.max(gnorm, Math.abs(g[i]!));
    if (gnorm < tol) break;
    // Two-loop recursion: dir = -H g.
    for (let i = 0; i < n; i++) dir[i] = -g[i]!;
    for (let j = S.length - 1; j >= 0; j--) {
      let a = 0;
      for (let i = 0; i < n; i++) a += S[j]![i]! * dir[i]!;
      a *= rho[j]!;
      alpha[j] = a;
      for (let i = 0; i < n; i++) dir[i]! -= a * Y[j]![i]!;
    }
    if (S.length > 0) {
      const last = S.length - 1;
      let sy = 0;
      let yy = 0;
      for (let i = 0; i < n; i++) {
        sy += S[last]![i]! * Y[last]![i]!;
        yy += Y[last]![i]! * Y[last]![i]!;
      }
      const gamma = sy / yy;
      for (let i = 0; i < n; i++) dir[i]! *= gamma;
    }
    for (let j = 0; j < S.length; j++) {
      let b = 0;
      for (let i = 0; i < n; i++) b += Y[j]![i]! * dir[i]!;
      b *= rho[j]!;
      for (let i = 0; i < n; i++) dir[i]! += (alpha[j]! - b) * S[j]![i]!;
    }
    let slope = 0;
    for (let i = 0; i < n; i++) slope += g[i]! * dir[i]!;
    if (slope >= 0) {
      // Not a descent direction (curvature information went stale): restart from steepest descent.
      for (let i = 0; i < n; i++) dir[i] = -g[i]!;
      slope = 0;
      for (let i = 0; i < n; i++) slope += g[i]! * dir[i]!;
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
    }
    let step = iter === 0 && S.length === 0 ? 1 / Math.max(1, Math.sqrt(-slope)) : 1;
    let fNew = 0;
    for (let ls = 0; ls < 40; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i]! + step * dir[i]!;
      fNew = f(xNew, gNew);
      if (fNew <= fx + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    let sy = 0;
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
      sy += s[i]! * y[i]!;
    }
    x.set(xNew);
    g.set(gNew);
    const improvement = fx - fNew;
    fx = fNew;
    if (sy > 1e-12) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    if (Math.abs(improvement) < 1e-10 * Math.max(1, Math.abs(fx))) break;
  }
  return { x, value: fx, iterations: iter };
}
