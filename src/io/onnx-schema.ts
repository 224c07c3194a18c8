/**
 * The subset of onnx.proto (proto2; field numbers from the ONNX specification) that the reader and
 * writer need, as a protobufjs JSON descriptor: ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto (raw_data and typed fields, external data), ValueInfoProto, TypeProto with tensor shapes,
 * OperatorSetIdProto. Unknown fields in a file (training info, functions, ...) are skipped by the decoder.
 */
import { createRequire } from 'node:module';
import type * as Protobuf from 'protobufjs/light.js';

const packed = { packed: true };
const unpacked = { packed: false };

const descriptor = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        ModelProto: {
          fields: {
            ir_version: { type: 'int64', id: 1 },
            producer_name: { type: 'string', id: 2 },
            producer_version: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            model_version: { type: 'int64', id: 5 },
            doc_string: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opset_import: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadata_props: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            doc_string: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            value_info: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
            sparse_initializer: { rule: 'repeated', type: 'bytes', id: 15 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            op_type: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            doc_string: { type: 'string', id: 6 },
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
            g: { type: 'GraphProto', id: 6 },
            floats: { rule: 'repeated', type: 'float', id: 7, options: unpacked },
            ints: { rule: 'repeated', type: 'int64', id: 8, options: unpacked },
            strings: { rule: 'repeated', type: 'bytes', id: 9 },
            tensors: { rule: 'repeated', type: 'TensorProto', id: 10 },
            graphs: { rule: 'repeated', type: 'GraphProto', id: 11 },
            doc_string: { type: 'string', id: 13 },
            type: { type: 'int32', id: 20 },
            ref_attr_name: { type: 'string', id: 21 },
          },
        },
        ValueInfoProto: {
          fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 }, doc_string: { type: 'string', id: 3 } },
        },
        TypeProto: {
          fields: { tensor_type: { type: 'TypeProtoTensor', id: 1 }, denotation: { type: 'string', id: 6 } },
        },
        TypeProtoTensor: {
          fields: { elem_type: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } },
        },
        TensorShapeProto: { fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } } },
        Dimension: {
          oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
          fields: { dim_value: { type: 'int64', id: 1 }, dim_param: { type: 'string', id: 2 }, denotation: { type: 'string', id: 3 } },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1, options: unpacked },
            data_type: { type: 'int32', id: 2 },
            float_data: { rule: 'repeated', type: 'float', id: 4, options: packed },
            int32_data: { rule: 'repeated', type: 'int32', id: 5, options: packed },
            string_data: { rule: 'repeated', type: 'bytes', id: 6 },
            int64_data: { rule: 'repeated', type: 'int64', id: 7, options: packed },
            name: { type: 'string', id: 8 },
            raw_data: { type: 'bytes', id: 9 },
            double_data: { rule: 'repeated', type: 'double', id: 10, options: packed },
            uint64_data: { rule: 'repeated', type: 'uint64', id: 11, options: packed },
            doc_string: { type: 'string', id: 12 },
            external_data: { rule: 'repeated', type: 'StringStringEntryProto', id: 13 },
            data_location: { type: 'int32', id: 14 },
          },
        },
      },
    },
  },
};

let modelProto: Protobuf.Type | null = null;

/** The ModelProto message type. protobufjs loads on the first ONNX file read or written (it costs
 *  ~50 ms of start-up that a user who never touches ONNX should not pay). */
export function modelProtoType(): Protobuf.Type {
  if (!modelProto) {
    const protobuf = createRequire(import.meta.url)('protobufjs/light.js') as typeof Protobuf;
    modelProto = protobuf.Root.fromJSON(descriptor).lookupType('onnx.ModelProto');
  }
  return modelProto;
}

/** TensorProto.DataType values. */
export const OnnxDataType = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const;

/** AttributeProto.AttributeType values. */
export const OnnxAttrType = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10,
} as const;

/** Decoded message shapes (what protobufjs produces for the descriptor above). */
export type Int64 = number | { toNumber(): number; toString(): string };
export interface PbTensor {
  dims?: Int64[]; data_type?: number; float_data?: number[]; int32_data?: number[]; string_data?: Uint8Array[];
  int64_data?: Int64[]; name?: string; raw_data?: Uint8Array; double_data?: number[]; uint64_data?: Int64[];
  external_data?: { key?: string; value?: string }[]; data_location?: number;
}
export interface PbAttribute {
  name?: string; f?: number; i?: Int64; s?: Uint8Array; t?: PbTensor; g?: PbGraph; floats?: number[]; ints?: Int64[];
  strings?: Uint8Array[]; tensors?: PbTensor[]; graphs?: PbGraph[]; type?: number;
}
export interface PbNode { input?: string[]; output?: string[]; name?: string; op_type?: string; attribute?: PbAttribute[]; domain?: string }
export interface PbValueInfo {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: Int64; dim_param?: string }[] } } };
}
export interface PbGraph {
  node?: PbNode[]; name?: string; initializer?: PbTensor[]; input?: PbValueInfo[]; output?: PbValueInfo[]; value_info?: PbValueInfo[];
  sparse_initializer?: Uint8Array[];
}
export interface PbModel {
  ir_version?: Int64; producer_name?: string; producer_version?: string; graph?: PbGraph;
  opset_import?: { domain?: string; version?: Int64 }[]; metadata_props?: { key?: string; value?: string }[];
}
