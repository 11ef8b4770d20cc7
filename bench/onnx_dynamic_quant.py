#!/usr/bin/python3
"""Rewrites an F32 ONNX encoder into the graph ONNX Runtime's dynamic int8
quantiser produces, for bench/lowp_vs_peers.sh (onnxruntime.quantization is
not available here, so the transformation is written out):

every MatMul whose second input is a constant weight W [K, N] becomes
  DynamicQuantizeLinear(x) -> x_q (u8), x_scale, x_zero_point
  MatMulInteger(x_q, W_q, x_zero_point, 0) -> int32     (W_q: s8, per column)
  Cast(float) * (x_scale * W_scale)                      (W_scale: [N])
which ONNX Runtime fuses into its DynamicQuantizeMatMul kernel. Weights are
quantised symmetrically per output column, as modelgate's int8 layers are.

usage: /usr/bin/python3 bench/onnx_dynamic_quant.py IN.onnx OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def quantise(model):
    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    nodes, added, replaced = [], [], 0
    for node in graph.node:
        if node.op_type != "MatMul" or node.input[1] not in weights:
            nodes.append(node)
            continue
        w = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)  # [K, N]
        if w.ndim != 2:
            nodes.append(node)
            continue
        scale = np.abs(w).max(axis=0) / 127.0
        scale[scale == 0] = 1.0
        w_q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
        base = f"{node.name or node.output[0]}_quant"
        added += [numpy_helper.from_array(w_q, base + "_W"),
                  numpy_helper.from_array(scale.astype(np.float32), base + "_W_scale"),
                  numpy_helper.from_array(np.zeros(w.shape[1], np.int8), base + "_W_zero_point")]
        x = node.input[0]
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [x],
                             [base + "_x", base + "_x_scale", base + "_x_zero_point"],
                             name=base + "_dql"),
            helper.make_node("MatMulInteger",
                             [base + "_x", base + "_W", base + "_x_zero_point", base + "_W_zero_point"],
                             [base + "_int32"], name=base + "_mmi"),
            helper.make_node("Cast", [base + "_int32"], [base + "_f32"], to=TensorProto.FLOAT,
                             name=base + "_cast"),
            helper.make_node("Mul", [base + "_x_scale", base + "_W_scale"], [base + "_scale"],
                             name=base + "_scale_mul"),
            helper.make_node("Mul", [base + "_f32", base + "_scale"], [node.output[0]],
                             name=base + "_out_mul"),
        ]
        replaced += 1
    used = {i for n in nodes for i in n.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    return replaced


if __name__ == "__main__":
    model = onnx.load(sys.argv[1])
    count = quantise(model)
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[2])
    print(f"{count} MatMul nodes quantised", file=sys.stderr)
