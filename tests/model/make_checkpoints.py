#!/usr/bin/python3
"""Checkpoints written by PyTorch, with reference dumps, for modelgate's readers.

Writes into OUT_DIR one folder or file per case and OUT_DIR/manifest.json:

  {"cases": [{"name", "path", "open": "folder" | "file",
              "error": null | "text the reader's error must contain",
              "tensors": [{"name", "dtype", "shape", "raw", "f32"}]}]}

"raw" names a file holding the tensor's elements, contiguous and little-endian
in its stored dtype; "f32" (float dtypes only) names the same values as
float32, converted by torch. The reader must reproduce both bit for bit.

Cases: hand-written safetensors (every dtype, special values, scalars, empty
tensors), sharded safetensors with an index, torch.save state dicts in F32,
F16 and BF16, views into a shared storage (non-zero storage offsets),
nn.Parameter values, pickle protocol 4, a state dict nested in a training
checkpoint, sharded .bin files with an index; and files the reader must
refuse: a non-contiguous tensor, malicious pickles (os.system, eval), a
pickled nn.Module, the legacy non-zip format and a bare pickle.

usage: /usr/bin/python3 tests/model/make_checkpoints.py OUT_DIR
"""
import json
import os
import pickle
import struct
import sys

try:
    import torch
except ImportError:
    sys.exit("error: PyTorch is not importable by /usr/bin/python3 (apt-get install python3-torch)")

SAFETENSORS_NAMES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}
# Same-sized integer views, so numpy can dump any dtype's bytes unchanged.
BIT_VIEWS = {
    torch.float32: torch.int32, torch.float16: torch.int16, torch.bfloat16: torch.int16,
    torch.float64: torch.int64,
}
FLOAT_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)


def raw_bytes(tensor):
    tensor = tensor.detach().contiguous()
    if tensor.dtype == torch.bool:
        tensor = tensor.to(torch.uint8)
    elif tensor.dtype in BIT_VIEWS:
        tensor = tensor.view(BIT_VIEWS[tensor.dtype])
    return tensor.numpy().tobytes()


class Writer:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.cases = []
        self.ref_count = 0
        os.makedirs(os.path.join(out_dir, "ref"), exist_ok=True)

    def _ref(self, data):
        name = "ref/%05d.bin" % self.ref_count
        self.ref_count += 1
        with open(os.path.join(self.out_dir, name), "wb") as f:
            f.write(data)
        return name

    def expect(self, name, path, tensors, open_as="folder"):
        entries = []
        for tensor_name, tensor in tensors.items():
            tensor = tensor.detach()
            entries.append({
                "name": tensor_name,
                "dtype": SAFETENSORS_NAMES[tensor.dtype],
                "shape": list(tensor.shape),
                "raw": self._ref(raw_bytes(tensor)),
                "f32": self._ref(tensor.float().contiguous().numpy().tobytes())
                       if tensor.dtype in FLOAT_DTYPES else None,
            })
        self.cases.append({"name": name, "path": path, "open": open_as, "error": None,
                           "tensors": entries})

    def refuse(self, name, path, error, open_as="file"):
        self.cases.append({"name": name, "path": path, "open": open_as, "error": error,
                           "tensors": []})

    def path(self, *parts):
        full = os.path.join(self.out_dir, *parts)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        return full

    def finish(self):
        with open(os.path.join(self.out_dir, "manifest.json"), "w") as f:
            json.dump({"cases": self.cases}, f, indent=1)


def write_safetensors(path, tensors, metadata=None):
    """The safetensors format by hand: u64 header length, JSON header, data."""
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    data = b""
    for name, tensor in tensors.items():
        payload = raw_bytes(tensor)
        header[name] = {"dtype": SAFETENSORS_NAMES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


class TinyBert(torch.nn.Module):
    """A few BERT-shaped layers, enough for a realistic state dict."""

    def __init__(self):
        super().__init__()
        self.word_embeddings = torch.nn.Embedding(50, 8)
        self.query = torch.nn.Linear(8, 8)
        self.intermediate = torch.nn.Linear(8, 16)
        self.LayerNorm = torch.nn.LayerNorm(8)
        self.classifier = torch.nn.Linear(8, 3)
        self.register_buffer("position_ids", torch.arange(12).expand((1, -1)))


class RunsShell:
    def __reduce__(self):
        return (os.system, ("touch " + os.path.join(OUT_DIR, "pwned"),))


class RunsEval:
    def __reduce__(self):
        return (eval, ("open('" + os.path.join(OUT_DIR, "pwned") + "', 'w')",))


def special_values(dtype):
    values = [0.0, -0.0, 1.0, -1.5, float("inf"), float("-inf"), float("nan"), 1e-3, -7.25e4]
    if dtype == torch.float16:
        values += [65504.0, 2.0 ** -24, 6.0e-5, 2.0 ** -14]
    elif dtype == torch.bfloat16:
        values += [3.0e38, 1.0e-39, 2.0 ** -133]
    else:
        values += [3.4e38, 1.0e-45, 1.17e-38]
    return torch.tensor(values, dtype=torch.float32).to(dtype)


def safetensors_cases(w):
    tensors = {
        "f32.matrix": torch.randn(4, 8),
        "f16.vector": torch.randn(16).half(),
        "bf16.matrix": torch.randn(3, 5).bfloat16(),
        "f64.matrix": torch.randn(2, 2, dtype=torch.float64),
        "f32.special": special_values(torch.float32),
        "f16.special": special_values(torch.float16),
        "bf16.special": special_values(torch.bfloat16),
        "i64.position_ids": torch.arange(7).unsqueeze(0),
        "i32.values": torch.tensor([-2 ** 31, 0, 2 ** 31 - 1], dtype=torch.int32),
        "i16.values": torch.tensor([-300, 7], dtype=torch.int16),
        "i8.values": torch.tensor([-128, 127], dtype=torch.int8),
        "u8.values": torch.tensor([0, 1, 255, 3, 4], dtype=torch.uint8),
        "bool.mask": torch.tensor([True, False, True, True]),
        "f32.scalar": torch.tensor(3.5),
        "f32.empty": torch.zeros(0, 3),
    }
    write_safetensors(w.path("st_single", "model.safetensors"), tensors, {"format": "pt"})
    w.expect("safetensors, every dtype", "st_single", tensors)

    shard1 = {"encoder.a": torch.randn(5, 3), "encoder.b": torch.randn(2).half()}
    shard2 = {"encoder.c": torch.randn(4, 4).bfloat16()}
    write_safetensors(w.path("st_sharded", "model-00001-of-00002.safetensors"), shard1)
    write_safetensors(w.path("st_sharded", "model-00002-of-00002.safetensors"), shard2)
    weight_map = {name: "model-00001-of-00002.safetensors" for name in shard1}
    weight_map.update({name: "model-00002-of-00002.safetensors" for name in shard2})
    with open(w.path("st_sharded", "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f)
    w.expect("sharded safetensors", "st_sharded", {**shard1, **shard2})


def torch_bin_cases(w):
    model = TinyBert()
    for label, dtype in (("f32", torch.float32), ("f16", torch.float16), ("bf16", torch.bfloat16)):
        state = model.to(dtype).state_dict()
        torch.save(state, w.path("bin_" + label, "pytorch_model.bin"))
        w.expect("torch.save state dict " + label, "bin_" + label, state)
    model = model.float()

    big = torch.randn(100)
    matrix = torch.randn(6, 4)
    half = torch.randn(40).half()
    views = {
        "a": big[10:30].view(4, 5),
        "b": big[50:],
        "whole": big,
        "rows": matrix[2:5],
        "last_row": matrix[5],
        "half_tail": half[25:].view(3, 5),
        "int_tail": torch.arange(6).view(1, 6)[:, 1:],
    }
    torch.save(views, w.path("bin_views", "pytorch_model.bin"))
    w.expect("views at storage offsets", "bin_views", views)

    params = {"weight": torch.nn.Parameter(torch.randn(3, 2)),
              "bias": torch.nn.Parameter(torch.randn(3).bfloat16(), requires_grad=False)}
    torch.save(params, w.path("bin_params", "pytorch_model.bin"))
    w.expect("nn.Parameter values", "bin_params", params)

    state = model.state_dict()
    torch.save(state, w.path("bin_proto4", "pytorch_model.bin"), pickle_protocol=4)
    w.expect("pickle protocol 4", "bin_proto4", state)

    training = {"epoch": 3, "step": 1200, "state_dict": state,
                "optimizer": {"lr": 1e-3, "betas": (0.9, 0.999), "names": ["a", "b"]}}
    torch.save(training, w.path("bin_nested", "checkpoint.bin"))
    w.expect("state dict nested in a training checkpoint", "bin_nested/checkpoint.bin", state,
             open_as="file")

    names = list(state)
    first = {name: state[name] for name in names[:4]}
    second = {name: state[name] for name in names[4:]}
    torch.save(first, w.path("bin_sharded", "pytorch_model-00001-of-00002.bin"))
    torch.save(second, w.path("bin_sharded", "pytorch_model-00002-of-00002.bin"))
    weight_map = {name: "pytorch_model-00001-of-00002.bin" for name in first}
    weight_map.update({name: "pytorch_model-00002-of-00002.bin" for name in second})
    with open(w.path("bin_sharded", "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)
    w.expect("sharded pytorch_model.bin", "bin_sharded", state)


def refused_cases(w):
    matrix = torch.randn(3, 4)
    torch.save({"transposed": matrix.t()}, w.path("refuse", "transposed.bin"))
    w.refuse("non-contiguous tensor", "refuse/transposed.bin", "is not contiguous")
    torch.save({"every_other": torch.randn(10)[::2]}, w.path("refuse", "strided.bin"))
    w.refuse("strided tensor", "refuse/strided.bin", "is not contiguous")

    torch.save({"x": RunsShell()}, w.path("refuse", "os_system.bin"))
    w.refuse("os.system in a pickle", "refuse/os_system.bin",
             "refusing to load '" + os.system.__module__ + ".system'")
    torch.save({"x": RunsEval()}, w.path("refuse", "eval.bin"))
    w.refuse("builtins.eval in a pickle", "refuse/eval.bin", "refusing to load '__builtin__.eval'")
    torch.save(TinyBert(), w.path("refuse", "module.bin"))
    w.refuse("a pickled nn.Module", "refuse/module.bin", "refusing to load '__main__.TinyBert'")

    torch.save(TinyBert().state_dict(), w.path("refuse", "legacy.bin"),
               _use_new_zipfile_serialization=False)
    w.refuse("legacy torch format", "refuse/legacy.bin", "legacy (pre-1.6, non-zip) PyTorch format")
    with open(w.path("refuse", "bare_pickle.bin"), "wb") as f:
        pickle.dump({"x": RunsShell()}, f, protocol=2)
    w.refuse("bare malicious pickle", "refuse/bare_pickle.bin", "legacy (pre-1.6, non-zip)")


def main():
    global OUT_DIR
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    OUT_DIR = os.path.abspath(sys.argv[1])
    torch.manual_seed(0)
    w = Writer(OUT_DIR)
    safetensors_cases(w)
    torch_bin_cases(w)
    refused_cases(w)
    w.finish()
    print("wrote %d cases to %s" % (len(w.cases), OUT_DIR))


OUT_DIR = None

if __name__ == "__main__":
    main()
