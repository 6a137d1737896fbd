import protobuf from 'protobufjs';

/**
 * The subset of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto) winnow needs to write models:
 * field numbers as in the official schema, so any ONNX runtime reads the files.
 */
const root = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            domain: { type: 'string', id: 7 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            floats: { rule: 'repeated', type: 'float', id: 7, options: { packed: true } },
            ints: { rule: 'repeated', type: 'int64', id: 8, options: { packed: true } },
            type: { type: 'int32', id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1, options: { packed: true } },
            dataType: { type: 'int32', id: 2 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
          },
        },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } } },
        TypeProto: { fields: { tensorType: { type: 'TypeProtoTensor', id: 1 } } },
        TypeProtoTensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
        TensorShapeProto: { fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } } },
        Dimension: { fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } } },
      },
    },
  },
});

const ModelProto = root.lookupType('onnx.ModelProto');
const TensorProto = root.lookupType('onnx.TensorProto');

export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, FLOAT16: 10 } as const;
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

export interface TensorInit {
  name: string;
  dims: number[];
  dataType: number;
  /** Little-endian bytes of the tensor. */
  raw: Uint8Array;
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, number | number[] | string>;
  name?: string;
}

export interface IoSpec {
  name: string;
  elemType: number;
  /** A number for a fixed size, a string for a named dynamic dimension. */
  shape: (number | string)[];
}

export interface ModelSpec {
  inputs: IoSpec[];
  outputs: IoSpec[];
  nodes: NodeSpec[];
  initializers?: TensorInit[];
  opset?: number;
  metadata?: Record<string, string>;
  docString?: string;
}

function attribute(name: string, v: number | number[] | string): Record<string, unknown> {
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: Buffer.from(v) };
  if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
  return Number.isInteger(v) ? { name, type: AttrType.INT, i: v } : { name, type: AttrType.FLOAT, f: v };
}

function valueInfo(io: IoSpec): Record<string, unknown> {
  return {
    name: io.name,
    type: { tensorType: { elemType: io.elemType, shape: { dim: io.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** Serializes a model to ONNX bytes (IR version 8). */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const inits = spec.initializers ?? [];
  const small = inits.filter((t) => t.raw.byteLength <= LARGE_TENSOR);
  const large = inits.filter((t) => t.raw.byteLength > LARGE_TENSOR);
  const message = ModelProto.fromObject({
    irVersion: 8,
    producerName: 'winnow',
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }],
    docString: spec.docString ?? '',
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'winnow',
      node: spec.nodes.map((n, i) => ({
        name: n.name ?? `${n.op}_${i}`,
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer: small.map((t) => ({ name: t.name, dims: t.dims, dataType: t.dataType, rawData: t.raw })),
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
    },
  });
  const head = ModelProto.encode(message).finish();
  if (large.length === 0) return head;
  return Buffer.concat([head, ...large.flatMap(initializerPatch)]);
}

/** Initializers above this size are appended as raw bytes instead of going through protobufjs. */
const LARGE_TENSOR = 1 << 20;

/**
 * `ModelProto { graph { initializer { <t> } } }` written by hand around the tensor's bytes, without
 * copying them (protobufjs copied a 67 MB projection three times): appended to a ModelProto, the
 * parser merges this graph into the model's (see graphPatch). Returns the pieces to concatenate.
 */
function initializerPatch(t: TensorInit): Uint8Array[] {
  const header = TensorProto.encode({ name: t.name, dims: t.dims, dataType: t.dataType }).finish();
  const rawKey = Uint8Array.of((9 << 3) | 2, ...varint(t.raw.byteLength));
  const tensorLength = header.byteLength + rawKey.byteLength + t.raw.byteLength;
  const initKey = Uint8Array.of((5 << 3) | 2, ...varint(tensorLength));
  const graphKey = Uint8Array.of((7 << 3) | 2, ...varint(initKey.byteLength + tensorLength));
  return [graphKey, initKey, header, rawKey, t.raw];
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

export function floatTensor(name: string, dims: number[], data: Float32Array): TensorInit {
  return { name, dims, dataType: DataType.FLOAT, raw: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export function int64Tensor(name: string, values: number[]): TensorInit {
  const a = BigInt64Array.from(values.map((v) => BigInt(v)));
  return { name, dims: [values.length], dataType: DataType.INT64, raw: new Uint8Array(a.buffer) };
}

/**
 * Bytes that, appended to a serialized ModelProto, add nodes, initializers and outputs to its graph.
 * Protobuf parsers merge a repeated embedded message field by concatenation: the result is the
 * original graph plus these parts, without decoding (or losing) anything of the original model.
 */
export function graphPatch(spec: { nodes: NodeSpec[]; initializers: TensorInit[]; outputs: IoSpec[] }): Uint8Array {
  const message = ModelProto.fromObject({
    graph: {
      node: spec.nodes.map((n, i) => ({
        name: n.name ?? `winnow_${n.op}_${i}`,
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer: spec.initializers.map((t) => ({ name: t.name, dims: t.dims, dataType: t.dataType, rawData: t.raw })),
      output: spec.outputs.map(valueInfo),
    },
  });
  return ModelProto.encode(message).finish();
}
