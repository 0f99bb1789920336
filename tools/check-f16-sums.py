#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Prefill products of a real model with f16 sums, as the NV matrix-core kernel
sums them by default (shaders/matmul_cm2.comp, ACC16), against exact sums.

The kernel multiplies f16 operands (weights decoded to f16, activations from
cvt16) and keeps the running sum in f16; a sum past 65504 is clamped. This
replays that rounding, 16 columns at a time (the k of NVIDIA's f16 matrix
instructions; the order in which the driver adds them is not known), on every
q, k, v, o, gate, up and down product of one prompt's prefill, in a numpy
forward pass of the model (Gemma 3 or Llama, the two checked against
unicorn-generate; weights dequantized by gguf-py), and prints per product kind
the largest |sum| met at any step and the NMSE of the f16-summed outputs against
the exact products of the same f16 operands. The forward pass
itself runs in float64 and its greedy next token is printed, to compare with
`unicorn-generate --raw --exact -n 1` on the same prompt.

  python3 -m venv /tmp/gv && /tmp/gv/bin/pip install gguf numpy
  /tmp/gv/bin/python tools/check-f16-sums.py MODEL.gguf TOKEN_ID...
"""
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

K_STEP = 16  # columns an f16 matrix instruction (m16n8k16) sums before its result is rounded into the accumulator


def field(r, key, default=None):
    f = r.fields.get(key)
    if f is None:
        return default
    v = f.parts[f.data[0]]
    return v.tobytes().decode() if v.dtype == np.uint8 else v[0].item()


class Model:
    def __init__(self, path):
        r = GGUFReader(path)
        self.arch = field(r, "general.architecture")
        a = self.arch
        self.E = field(r, f"{a}.embedding_length")
        self.L = field(r, f"{a}.block_count")
        self.H = field(r, f"{a}.attention.head_count")
        self.HKV = field(r, f"{a}.attention.head_count_kv", self.H)
        self.D = field(r, f"{a}.attention.key_length", self.E // self.H)
        self.eps = field(r, f"{a}.attention.layer_norm_rms_epsilon")
        self.base = field(r, f"{a}.rope.freq_base", 10000.0)
        self.window = field(r, f"{a}.attention.sliding_window", 0)
        self.t = {}
        for t in r.tensors:
            self.t[t.name] = np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float64).reshape(
                [int(x) for x in reversed(t.shape)])
        self.gemma = a == "gemma3"
        self.stats = {}

    def w(self, name):
        return self.t[name]

    def product(self, kind, x, w):
        """x [T, k] @ w[n, k]^T: exact in float64 (the result), and replayed with f16 operands and sums."""
        y = x @ w.T
        xh = x.astype(np.float16).astype(np.float32)
        wh = w.astype(np.float16).astype(np.float32)
        exact = xh.astype(np.float64) @ wh.astype(np.float64).T
        acc = np.zeros(y.shape, np.float16)
        peak = 0.0
        for c in range(0, x.shape[1], K_STEP):
            part = (xh[:, c:c + K_STEP] @ wh[:, c:c + K_STEP].T).astype(np.float32)
            s = acc.astype(np.float32) + part
            peak = max(peak, float(np.abs(s).max()))
            acc = np.clip(s, -65504.0, 65504.0).astype(np.float16)
        err = float(((acc.astype(np.float64) - exact) ** 2).sum() / max((exact ** 2).sum(), 1e-300))
        st = self.stats.setdefault(kind, [0.0, 0.0, 0])
        st[0] = max(st[0], peak)
        st[1] = max(st[1], err)
        st[2] += 1
        return y

    def norm(self, x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + self.eps) * w

    def rope(self, x, pos, base):
        d = x.shape[-1]
        inv = base ** (-np.arange(0, d, 2, dtype=np.float64) / d)
        ang = pos[:, None] * inv[None, :]
        c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        if self.gemma:  # NeoX halves
            a, b = x[..., : d // 2], x[..., d // 2:]
            return np.concatenate([a * c - b * s, a * s + b * c], -1)
        a, b = x[..., 0::2], x[..., 1::2]  # llama: interleaved pairs
        out = np.empty_like(x)
        out[..., 0::2] = a * c - b * s
        out[..., 1::2] = a * s + b * c
        return out

    def forward(self, ids):
        T, E, H, HKV, D = len(ids), self.E, self.H, self.HKV, self.D
        x = self.w("token_embd.weight")[ids] * (np.sqrt(E) if self.gemma else 1.0)
        pos = np.arange(T, dtype=np.float64)
        for il in range(self.L):
            p = f"blk.{il}."
            swa = self.gemma and self.window > 0 and (il + 1) % 6 != 0
            h = self.norm(x, self.w(p + "attn_norm.weight"))
            q = self.product("q", h, self.w(p + "attn_q.weight")).reshape(T, H, D)
            k = self.product("k", h, self.w(p + "attn_k.weight")).reshape(T, HKV, D)
            v = self.product("v", h, self.w(p + "attn_v.weight")).reshape(T, HKV, D)
            if self.gemma:
                q = self.norm(q, self.w(p + "attn_q_norm.weight"))
                k = self.norm(k, self.w(p + "attn_k_norm.weight"))
            base = 10000.0 if swa else self.base
            q, k = self.rope(q, pos, base), self.rope(k, pos, base)
            g = H // HKV
            mask = np.tril(np.ones((T, T), bool))
            if swa:
                mask &= ~np.tril(np.ones((T, T), bool), -self.window)
            att = np.empty((T, H, D))
            for hh in range(H):
                s = q[:, hh] @ k[:, hh // g].T / np.sqrt(D)
                s = np.where(mask, s, -np.inf)
                s = np.exp(s - s.max(-1, keepdims=True))
                att[:, hh] = (s / s.sum(-1, keepdims=True)) @ v[:, hh // g]
            o = self.product("o", att.reshape(T, H * D), self.w(p + "attn_output.weight"))
            if self.gemma:
                o = self.norm(o, self.w(p + "post_attention_norm.weight"))
            x = x + o
            h = self.norm(x, self.w(p + "ffn_norm.weight"))
            gt = self.product("gate", h, self.w(p + "ffn_gate.weight"))
            up = self.product("up", h, self.w(p + "ffn_up.weight"))
            if self.gemma:
                act = 0.5 * gt * (1 + np.tanh(np.sqrt(2 / np.pi) * (gt + 0.044715 * gt ** 3)))
            else:
                act = gt / (1 + np.exp(-gt))
            dn = self.product("down", act * up, self.w(p + "ffn_down.weight"))
            if self.gemma:
                dn = self.norm(dn, self.w(p + "post_ffw_norm.weight"))
            x = x + dn
        x = self.norm(x[-1:], self.w("output_norm.weight"))
        out = self.t.get("output.weight", self.w("token_embd.weight"))
        return int(np.argmax(x @ out.T))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    m = Model(sys.argv[1])
    if m.arch not in ("gemma3", "llama"):
        sys.exit(f"{m.arch}: not handled")
    ids = [int(a) for a in sys.argv[2:]]
    nxt = m.forward(ids)
    print(f"{sys.argv[1]}: {len(ids)} tokens, greedy next token {nxt}")
    print("product  count  largest |sum|  worst NMSE (f16 sums vs exact)")
    for kind, (peak, err, n) in m.stats.items():
        print(f"{kind:7s} {n:6d}  {peak:13.1f}  {err:.3g}")


if __name__ == "__main__":
    main()
