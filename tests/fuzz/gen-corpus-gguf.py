#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus for fuzz-gguf: a few tiny valid GGUF files that
together use every value type, arrays, custom alignment and several tensor
types, plus a few broken ones near interesting edges.

    tests/fuzz/gen-corpus-gguf.py tests/fuzz/corpus-gguf
"""
import os
import struct
import sys

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
FMT = {U8: '<B', I8: '<b', U16: '<H', I16: '<h', U32: '<I', I32: '<i', F32: '<f',
       BOOL: '<B', U64: '<Q', I64: '<q', F64: '<d'}
GGML_F32, GGML_F16, GGML_Q4_0, GGML_Q8_0, GGML_Q4_K, GGML_Q6_K = 0, 1, 2, 8, 12, 14
# (block size, bytes per block)
BLOCK = {GGML_F32: (1, 4), GGML_F16: (1, 2), GGML_Q4_0: (32, 18), GGML_Q8_0: (32, 34),
         GGML_Q4_K: (256, 144), GGML_Q6_K: (256, 210)}


def s(x):
    b = x.encode()
    return struct.pack('<Q', len(b)) + b


def value(t, v):
    if t == STR:
        return s(v)
    if t == ARR:
        et, items = v
        return struct.pack('<IQ', et, len(items)) + b''.join(value(et, i) for i in items)
    return struct.pack(FMT[t], v)


def gguf(kvs, tensors, version=3, align=32):
    """kvs: [(key, type, value)], tensors: [(name, type, ne)]"""
    out = struct.pack('<IIQQ', 0x46554747, version, len(tensors), len(kvs))
    for k, t, v in kvs:
        out += s(k) + struct.pack('<I', t) + value(t, v)
    off, offs = 0, []
    for name, t, ne in tensors:
        bs, ts = BLOCK[t]
        n = ne[0] // bs * ts
        for d in ne[1:]:
            n *= d
        offs.append((off, n))
        off = (off + n + align - 1) // align * align
    for (name, t, ne), (o, _) in zip(tensors, offs):
        out += s(name) + struct.pack('<I', len(ne)) + b''.join(struct.pack('<Q', d) for d in ne)
        out += struct.pack('<IQ', t, o)
    data = bytearray()
    for o, n in offs:
        data += bytes(o - len(data)) + bytes((i * 7) & 0xff for i in range(n))
    out += bytes(-len(out) % align)
    return out + bytes(data)


ALL_SCALARS = [('u8', U8, 7), ('i8', I8, -7), ('u16', U16, 700), ('i16', I16, -700),
               ('u32', U32, 70000), ('i32', I32, -70000), ('f32', F32, 0.5), ('bool', BOOL, 1),
               ('str', STR, 'llama'), ('u64', U64, 2**40), ('i64', I64, -2**40), ('f64', F64, 1e300)]

seeds = {
    'valid-all-types': gguf(ALL_SCALARS + [
        ('a.i32', ARR, (I32, [1, -2, 3])), ('a.f32', ARR, (F32, [0.1, 0.2])),
        ('a.bool', ARR, (BOOL, [0, 1])), ('a.str', ARR, (STR, ['<s>', '', 'ab'])),
        ('a.empty', ARR, (U8, []))],
        [('w', GGML_F32, [4, 2])]),
    'valid-tensors': gguf([('general.architecture', STR, 'gemma3'), ('gemma3.block_count', U32, 1)],
                          [('token_embd.weight', GGML_Q8_0, [32, 2]), ('blk.0.ffn.weight', GGML_Q4_K, [256, 1]),
                           ('blk.0.attn_q.weight', GGML_Q4_0, [64, 1, 1, 1]),
                           ('out', GGML_F16, [3]), ('q6', GGML_Q6_K, [256, 1])]),
    'valid-align64': gguf([('general.alignment', U32, 64), ('x', U8, 1)],
                          [('a', GGML_F32, [3]), ('b', GGML_F32, [5, 1, 1])], align=64),
    'valid-align1': gguf([('general.alignment', U32, 1)], [('a', GGML_F16, [3]), ('b', GGML_F32, [1])], align=1),
    'valid-v2-empty': gguf([], [], version=2),
    'valid-tokens': gguf([('tokenizer.ggml.tokens', ARR, (STR, ['a', 'b', 'ab', 'abc'])),
                          ('tokenizer.ggml.scores', ARR, (F32, [0.0, -1.0, -2.0, -3.0])),
                          ('tokenizer.ggml.token_type', ARR, (I32, [1, 1, 1, 3]))], []),
    'bad-nested-array': gguf([('n', ARR, (ARR, []))], []),
    'bad-bool': gguf([('b', BOOL, 2)], []),
    'bad-align': gguf([('general.alignment', U32, 3)], []),
    'bad-dup-key': gguf([('k', U8, 1), ('k', U8, 2)], []),
    'bad-dup-tensor': gguf([], [('t', GGML_F32, [1]), ('t', GGML_F32, [1])]),
    'bad-q2k': gguf([], [('t', GGML_Q4_K, [256])]).replace(struct.pack('<IQ', GGML_Q4_K, 0),
                                                          struct.pack('<IQ', 10, 0)),
}
seeds['bad-truncated'] = seeds['valid-tensors'][:-1]
seeds['bad-version1'] = struct.pack('<IIQQ', 0x46554747, 1, 0, 0)

outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus-gguf')
os.makedirs(outdir, exist_ok=True)
for name, data in sorted(seeds.items()):
    with open(os.path.join(outdir, name + '.gguf'), 'wb') as f:
        f.write(data)
    print(f'{name}.gguf: {len(data)} bytes')
