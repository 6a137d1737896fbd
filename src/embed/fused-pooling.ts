import { DataType, floatTensor, graphPatch, int64Tensor, type NodeSpec } from '../onnx/proto.js';

export const POOLED_OUTPUT = 'winnow_sentence_embedding';

/**
 * The model's ONNX bytes with pooling (masked mean or first token) and optional L2 normalization
 * appended to its graph as a new output, so a batch returns (batch x hidden) instead of the
 * (batch x seq x hidden) states and no pooling loop runs in JS. Only operators whose semantics have
 * not changed since opset 8 are used (Cast, Reshape, MatMul, Transpose, Max, Div, Sqrt, Gather), so
 * the patch fits models exported at any opset.
 */
export function fusePooling(model: Uint8Array, hidden: string, mask: string, opts: { pooling: 'mean' | 'cls'; normalize: boolean; dim: number }): Uint8Array {
  const p = (s: string): string => `winnow_pool_${s}`;
  const nodes: NodeSpec[] = [];
  const init = [int64Tensor(p('shape_n1l'), [0, 1, -1]), int64Tensor(p('shape_nl1'), [0, -1, 1]), int64Tensor(p('shape_nh'), [0, -1]), floatTensor(p('eps'), [], Float32Array.of(1e-12))];
  let pooled: string;
  if (opts.pooling === 'mean') {
    nodes.push(
      { op: 'Cast', inputs: [mask], outputs: [p('mask_f')], attrs: { to: DataType.FLOAT } },
      { op: 'Reshape', inputs: [p('mask_f'), p('shape_n1l')], outputs: [p('mask_row')] },
      { op: 'Reshape', inputs: [p('mask_f'), p('shape_nl1')], outputs: [p('mask_col')] },
      // Masked sum over tokens and the token count, both as batched matrix products.
      { op: 'MatMul', inputs: [p('mask_row'), hidden], outputs: [p('sum')] },
      { op: 'MatMul', inputs: [p('mask_row'), p('mask_col')], outputs: [p('count')] },
      { op: 'Max', inputs: [p('count'), p('eps')], outputs: [p('count_c')] },
      { op: 'Div', inputs: [p('sum'), p('count_c')], outputs: [p('mean')] },
    );
    pooled = p('mean');
  } else {
    init.push(int64Tensor(p('zero'), [0]));
    nodes.push({ op: 'Gather', inputs: [hidden, p('zero')], outputs: [p('first')], attrs: { axis: 1 } });
    pooled = p('first'); // (n x 1 x h)
  }
  if (opts.normalize) {
    nodes.push(
      { op: 'Transpose', inputs: [pooled], outputs: [p('pooled_t')], attrs: { perm: [0, 2, 1] } },
      { op: 'MatMul', inputs: [pooled, p('pooled_t')], outputs: [p('sq')] },
      { op: 'Max', inputs: [p('sq'), p('eps')], outputs: [p('sq_c')] },
      { op: 'Sqrt', inputs: [p('sq_c')], outputs: [p('norm')] },
      { op: 'Div', inputs: [pooled, p('norm')], outputs: [p('unit')] },
    );
    pooled = p('unit');
  }
  nodes.push({ op: 'Reshape', inputs: [pooled, p('shape_nh')], outputs: [POOLED_OUTPUT] });
  const patch = graphPatch({ nodes, initializers: init, outputs: [{ name: POOLED_OUTPUT, elemType: DataType.FLOAT, shape: ['batch', opts.dim] }] });
  const out = new Uint8Array(model.length + patch.length);
  out.set(model, 0);
  out.set(patch, model.length);
  return out;
}
