#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes a random-weight GGUF at the real shapes of a known model.

For benchmarks where no model can be downloaded (the GPU machine): decode
speed depends on the bytes read, not on the values, so random weights at the
real shapes and types give real timings. Needs only python3 + numpy.

Quantized types are written directly as ggml blocks: random quant bytes and
a small fixed scale, so every value is finite. A minimal SentencePiece-style
tokenizer (control tokens, 256 byte tokens, filler pieces) makes the engine
load the file.

  tools/gen-random-gguf.py gemma3-1b q4_0 /tmp/g1b-q4_0.gguf
  types: f32 f16 q4_0 q4_1 q5_0 q8_0 q4_k
  q4_k is the issue's "Q4_K mix", as llama.cpp's Q4_K_M lays it out by row length: Q4_K where 256
  divides the row, Q5_0 otherwise, Q6_K embeddings (Q8_0 where 256 does not divide them). Files
  written before 2026-12-04 used Q8_0 instead of Q5_0 (docs/vulkan.md's tables up to then).

For weights quantized by the engine's own code (real quantization of random
floats, every layout rule of llama.cpp's Q4_K_M), write f32 or f16 and run
tools/unicorn-quantize on the file: e.g.
  tools/gen-random-gguf.py qwen2.5-0.5b f16 /tmp/q05-f16.gguf
  build/tools/unicorn-quantize /tmp/q05-f16.gguf /tmp/q05-q4_k_m.gguf q4_k_m
"""
import struct
import sys

import numpy as np

# name: arch, hidden, layers, heads, kv heads, head dim, ffn, vocab, extra
SHAPES = {
    "smollm2-135m": ("llama", 576, 30, 9, 3, 64, 1536, 49152),
    "gemma3-270m": ("gemma3", 640, 18, 4, 1, 256, 2048, 262144),
    "qwen2.5-0.5b": ("qwen2", 896, 24, 14, 2, 64, 4864, 151936),
    "gemma3-1b": ("gemma3", 1152, 26, 4, 1, 256, 6912, 262144),
    "gemma3-4b": ("gemma3", 2560, 34, 8, 4, 256, 10240, 262208),
    "qwen2.5-7b": ("qwen2", 3584, 28, 28, 4, 128, 18944, 152064),
    "llama3-8b": ("llama", 4096, 32, 32, 8, 128, 14336, 128256),
    "gemma3-27b": ("gemma3", 5376, 62, 32, 16, 128, 21504, 262208),
}

# Models whose output matrix is the token embeddings (no output.weight), as in their real files; Gemma 3
# always ties them.
TIED = {"smollm2-135m", "qwen2.5-0.5b"}

# ggml type id, block size, bytes per block
TYPES = {"f32": (0, 1, 4), "f16": (1, 1, 2), "q4_0": (2, 32, 18), "q4_1": (3, 32, 20), "q5_0": (6, 32, 22),
         "q8_0": (8, 32, 34), "q4_k": (12, 256, 144), "q6_k": (14, 256, 210)}
FTYPE = {"f32": 0, "f16": 1, "q4_0": 2, "q4_1": 3, "q5_0": 8, "q8_0": 7, "q4_k": 15}

rng = np.random.default_rng(1234)
POOL = rng.integers(0, 256, size=64 << 20, dtype=np.uint8)  # tiled: generating GBs of randomness is slow


def rand_bytes(n, salt):
    off = (salt * 7919) % (len(POOL) // 2)
    reps = (n + len(POOL) - off - 1) // (len(POOL) - off) + 1
    if n <= len(POOL) - off:
        return POOL[off:off + n].copy()
    return np.tile(POOL, reps)[off:off + n].copy()


def tensor_bytes(tname, rows, k, salt):
    tid, bs, tb = TYPES[tname]
    if tname == "f32":
        return (rng.standard_normal(rows * k, dtype=np.float32) * 0.02).tobytes()
    if tname == "f16":
        return (rng.standard_normal(rows * k, dtype=np.float32) * 0.02).astype(np.float16).tobytes()
    nb = rows * k // bs
    b = rand_bytes(nb * tb, salt).reshape(nb, tb)
    d = np.frombuffer(np.float16(0.002).tobytes(), np.uint8)
    if tname in ("q4_0", "q8_0", "q5_0"):
        b[:, 0:2] = d
    elif tname == "q4_1":
        b[:, 0:2] = d
        b[:, 2:4] = np.frombuffer(np.float16(-0.016).tobytes(), np.uint8)  # min: values centred on 0
    elif tname == "q4_k":
        b[:, 0:2] = d
        b[:, 2:4] = np.frombuffer(np.float16(0.001).tobytes(), np.uint8)
    elif tname == "q6_k":
        b[:, 208:210] = d
    return b.tobytes()


def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, val):
    out = gguf_str(key) + struct.pack("<I", vtype)
    if vtype == 4:
        out += struct.pack("<I", val)
    elif vtype == 6:
        out += struct.pack("<f", val)
    elif vtype == 7:
        out += struct.pack("<?", val)
    elif vtype == 8:
        out += gguf_str(val)
    elif vtype == 9:
        et, items = val
        out += struct.pack("<IQ", et, len(items))
        if et == 8:
            out += b"".join(gguf_str(x) for x in items)
        elif et == 6:
            out += np.asarray(items, np.float32).tobytes()
        elif et == 5:
            out += np.asarray(items, np.int32).tobytes()
    return out


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in SHAPES or sys.argv[2] not in FTYPE:
        sys.exit("usage: gen-random-gguf.py {%s} {%s} OUT.gguf" % ("|".join(SHAPES), "|".join(FTYPE)))
    name, wtype, out = sys.argv[1:]
    arch, E, L, H, HKV, D, F, V = SHAPES[name]

    def pick(k):
        if wtype == "q4_k" and k % 256:
            return "q5_0"
        return wtype

    tensors = []  # (name, dims [k, rows], type name)
    emb_t = "q6_k" if wtype == "q4_k" else wtype
    tensors.append(("token_embd.weight", [E, V], emb_t if E % TYPES[emb_t][1] == 0 else "q8_0"))
    tensors.append(("output_norm.weight", [E], "f32"))
    if arch != "gemma3" and name not in TIED:
        tensors.append(("output.weight", [E, V], tensors[0][2]))
    for i in range(L):
        b = "blk.%d." % i
        tensors += [(b + "attn_norm.weight", [E], "f32"), (b + "ffn_norm.weight", [E], "f32"),
                    (b + "attn_q.weight", [E, H * D], pick(E)), (b + "attn_k.weight", [E, HKV * D], pick(E)),
                    (b + "attn_v.weight", [E, HKV * D], pick(E)), (b + "attn_output.weight", [H * D, E], pick(H * D)),
                    (b + "ffn_gate.weight", [E, F], pick(E)), (b + "ffn_up.weight", [E, F], pick(E)),
                    (b + "ffn_down.weight", [F, E], pick(F))]
        if arch == "qwen2":
            tensors += [(b + "attn_q.bias", [H * D], "f32"), (b + "attn_k.bias", [HKV * D], "f32"),
                        (b + "attn_v.bias", [HKV * D], "f32")]
        if arch == "gemma3":
            tensors += [(b + "attn_q_norm.weight", [D], "f32"), (b + "attn_k_norm.weight", [D], "f32"),
                        (b + "post_attention_norm.weight", [E], "f32"), (b + "post_ffw_norm.weight", [E], "f32")]

    toks = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]
    types = [3, 3, 3, 2, 3, 3]
    toks += ["<0x%02X>" % i for i in range(256)]
    types += [6] * 256
    toks += ["\u2581", "a", "b", "c", "\u2581a", "\u2581the"]
    types += [1] * 6
    toks += ["<unused%d>" % i for i in range(V - len(toks))]
    types += [1] * (V - len(types))

    meta = [kv("general.architecture", 8, arch), kv("general.name", 8, "random-" + name),
            kv("general.file_type", 4, FTYPE[wtype]), kv("general.alignment", 4, 32),
            kv(arch + ".context_length", 4, 8192), kv(arch + ".embedding_length", 4, E),
            kv(arch + ".block_count", 4, L), kv(arch + ".feed_forward_length", 4, F),
            kv(arch + ".attention.head_count", 4, H), kv(arch + ".attention.head_count_kv", 4, HKV),
            kv(arch + ".attention.key_length", 4, D), kv(arch + ".attention.value_length", 4, D),
            kv(arch + ".attention.layer_norm_rms_epsilon", 6, 1e-6),
            kv(arch + ".rope.freq_base", 6, 1000000.0 if arch != "llama" else 500000.0),
            kv("tokenizer.ggml.model", 8, "llama"), kv("tokenizer.ggml.tokens", 9, (8, toks)),
            kv("tokenizer.ggml.scores", 9, (6, [0.0] * V)), kv("tokenizer.ggml.token_type", 9, (5, types)),
            kv("tokenizer.ggml.bos_token_id", 4, 2), kv("tokenizer.ggml.eos_token_id", 4, 1),
            kv("tokenizer.ggml.unknown_token_id", 4, 3), kv("tokenizer.ggml.add_bos_token", 7, True)]
    if arch == "llama":
        # Llama 3's template family (the engine has no default chat format for llama).
        meta += [kv("tokenizer.chat_template", 8, "{{ '<|start_header_id|>' + role + '<|end_header_id|>' }}")]
    if arch == "gemma3":
        # The published configs' windows: 512 for 270M and 1B, 1024 for 4B, 12B and 27B (until
        # 2026-12-06 every size had 512 here, so the 4B's sliding layers wrapped their ring on the
        # bench's timed step at depth 4096; with 1024 they do not: docs/vulkan.md).
        window = 512 if name in ("gemma3-270m", "gemma3-1b") else 1024
        meta += [kv("gemma3.attention.sliding_window", 4, window),
                 kv("gemma3.attention.sliding_window_pattern", 4, 6)]

    infos, off, sizes = [], 0, []
    for tname, dims, t in tensors:
        tid, bs, tb = TYPES[t]
        rows = dims[1] if len(dims) > 1 else 1
        size = rows * dims[0] // bs * tb
        infos.append(gguf_str(tname) + struct.pack("<I", len(dims)) + struct.pack("<%dQ" % len(dims), *dims) +
                     struct.pack("<IQ", tid, off))
        sizes.append(size)
        off += (size + 31) // 32 * 32
    with open(out, "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta)))
        f.write(b"".join(meta))
        f.write(b"".join(infos))
        f.write(b"\0" * ((32 - f.tell() % 32) % 32))
        for i, (tname, dims, t) in enumerate(tensors):
            rows = dims[1] if len(dims) > 1 else 1
            if t == "f32" and len(dims) == 1:
                data = np.ones(dims[0], np.float32).tobytes()
            else:
                data = tensor_bytes(t, rows, dims[0], i)
            f.write(data)
            f.write(b"\0" * ((32 - len(data) % 32) % 32))
    print("%s: %s %s, %.0f MiB" % (out, name, wtype, off / 2**20))


main()
