"""Writes ONNX's own single-node conformance cases for the ops of image classifiers into
test/fixtures/onnx/conformance/<case>/ (model.onnx, input_<i>.pb, output_<i>.pb: the layout of
onnx/backend/test/data/node), for test/onnx/conformance.test.ts.

    python scripts/onnx/conformance.py            # needs the pip package onnx (not a project dependency)

The cases come from onnx.backend.test.case.node (the generator behind onnx's backend test data).
Selected: every single-node case whose op is below; for ops with spatial dims (convolutions,
pooling, BatchNormalization, Pad, Resize) only the 2-D spatial ones (4-D inputs). Cast's cases are
left out: each converts to or from float16 / float64 / float8 / 4-bit types, which an engine that
computes in float32 and int32 does not hold (Cast on shapes, as exporters emit it, is tested in the
graphs of the families test).
"""
import json
import os
import shutil
import sys

import onnx

sys.path.insert(0, os.path.dirname(__file__))
from _torch import write_pb  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "onnx", "conformance")

# The item 1 and the classifier ops the importer had before it.
OPS = {
    "Pad", "ReduceMean", "ReduceSum", "ReduceMax", "HardSigmoid", "HardSwish", "Sigmoid", "Mul", "Softmax", "LeakyRelu",
    "PRelu", "Elu", "Tanh", "Transpose", "Split", "Slice", "Squeeze", "Unsqueeze", "Expand", "Sub", "Div", "Pow", "Sqrt",
    "Erf", "Gelu", "LayerNormalization", "MatMul", "Resize", "Upsample", "ConvTranspose", "Identity", "Constant", "Shape",
    "Gather", "Concat", "ConstantOfShape",
    "Conv", "BatchNormalization", "Gemm", "Relu", "Clip", "Add", "MaxPool", "AveragePool", "GlobalAveragePool",
    "GlobalMaxPool", "Flatten", "Reshape", "Dropout",
}
SPATIAL = {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization", "Pad",
           "Resize", "Upsample"}


def rank_of_first_input(case):
    inputs = case.data_sets[0][0]
    return getattr(inputs[0], "ndim", None) if inputs else None


def main():
    from onnx.backend.test.case import node as node_cases

    cases = node_cases.collect_testcases()
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    index = {}
    for case in cases:
        nodes = case.model.graph.node
        if case.kind != "node" or len(nodes) != 1 or nodes[0].op_type not in OPS or nodes[0].domain not in ("", "ai.onnx"):
            continue
        op = nodes[0].op_type
        if op in SPATIAL and rank_of_first_input(case) not in (None, 4):
            continue
        d = os.path.join(OUT, case.name)
        os.makedirs(d)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        inputs, outputs = case.data_sets[0]
        ok = True
        for kind, values, infos in (("input", inputs, case.model.graph.input), ("output", outputs, case.model.graph.output)):
            for j, v in enumerate(values):
                if isinstance(v, onnx.TensorProto):
                    with open(os.path.join(d, f"{kind}_{j}.pb"), "wb") as f:
                        f.write(v.SerializeToString())
                elif hasattr(v, "dtype"):
                    write_pb(os.path.join(d, f"{kind}_{j}.pb"), v, infos[j].name)
                else:  # sequences and optionals: the case stays, with a note that the test reports
                    ok = False
        index[case.name] = {"op": op, "opset": case.model.opset_import[0].version, "tensor_data": ok,
                            "rtol": case.rtol, "atol": case.atol}
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(index, f, indent=1, sort_keys=True)
    print(f"{len(index)} cases of {len({v['op'] for v in index.values()})} ops written to {OUT}")


if __name__ == "__main__":
    main()
