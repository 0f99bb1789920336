#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compiles every shader variant with glslc and embeds the SPIR-V in C.

Writes <out.c> (one uint32_t array per variant and a name -> code table) and
<out.h>. Variants that need a newer compiler (cooperative matrix, integer
dot product) are built only when glslc accepts the extension; the others are
left out and listed, and the engine falls back to the basic kernels.
"""
import os
import re
import subprocess
import sys
import tempfile

TYPES = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"]

# (variant name, source, defines, required compiler feature or None)
VARIANTS = []
for t in TYPES:
    for s in ("matvec", "matmul", "get_rows"):
        VARIANTS.append((f"{s}_{t.lower()}", f"{s}.comp", [f"TYPE_{t}"], None))
for t in TYPES:
    # prefill on cooperative matrices (f16 operands, f32 sums)
    VARIANTS.append((f"matmul_cm_{t.lower()}", "matmul_cm.comp", [f"TYPE_{t}"], "coopmat"))
for t in TYPES:
    # prefill on NV workgroup-scope cooperative matrices (f16 operands, f32 sums)
    VARIANTS.append((f"matmul_cm2_{t.lower()}", "matmul_cm2.comp", [f"TYPE_{t}"], "coopmat2"))
    # the same with f16 sums (UNICORN_VK_CM2_ACC16)
    VARIANTS.append((f"matmul_cm2h_{t.lower()}", "matmul_cm2.comp", [f"TYPE_{t}", "ACC16"], "coopmat2"))
for t in ("Q4_0", "Q8_0"):
    # the f16-sum form decoding its repacked superblocks a 32-bit word at a time (UNICORN_VK_CM2_WORD)
    VARIANTS.append((f"matmul_cm2hw_{t.lower()}", "matmul_cm2.comp", [f"TYPE_{t}", "ACC16", "WORD_DECODE"], "coopmat2"))
for t in ("Q4_0", "Q8_0", "Q4_K"):
    # decode (one token) wide-load mat-vec, and its gate/up/activation (GLU) form
    VARIANTS.append((f"matvec1_{t.lower()}", "matvec.comp", [f"TYPE_{t}", "NT_MAX=1"], None))
    VARIANTS.append((f"matvecglu_{t.lower()}", "matvec.comp", [f"TYPE_{t}", "NT_MAX=1", "GLU"], None))
# one-token mat-vec on 8-bit activations (integer dot products): r rows a 32-lane group, u units in
# flight a lane and row (UNICORN_VK_MV8=R,U[,WG] picks one); g: the GLU form
for t in ("Q4_0", "Q8_0", "Q4_K", "Q6_K", "Q5_0", "Q4_1"):
    for r, u in ((1, 1), (1, 2), (2, 2)):
        for glu in (False, True):
            name = f"mv8{'g' if glu else ''}_{t.lower()}_r{r}u{u}"
            defs = [f"TYPE_{t}", f"R={r}", f"U={u}"] + (["GLU"] if glu else [])
            VARIANTS.append((name, "mv8.comp", defs, "int_dot"))
            # staged: the float row quantized (and RMS-normed) by each workgroup
            VARIANTS.append((name.replace("mv8", "mv8s", 1), "mv8.comp", defs + ["XS"], "int_dot"))
# the same (plain form, one row a 32-lane group, the default units in flight) for steps of 2-8 tokens: nt
# tokens' rows against each weight unit loaded once (several sequences decoding in one step)
for t in ("Q4_0", "Q8_0", "Q4_K", "Q6_K", "Q5_0", "Q4_1"):
    u = 1 if t in ("Q4_K", "Q6_K") else 2
    for nt in (2, 4, 8):
        VARIANTS.append((f"mv8n{nt}_{t.lower()}", "mv8.comp", [f"TYPE_{t}", "R=1", f"U={u}", f"NT={nt}"], "int_dot"))
for s in ("norm", "qkv", "attn", "attn_dec", "attn_pf", "act", "quantx", "cvt16", "prefetch", "splitk_sum", "gridsync"):
    VARIANTS.append((s, f"{s}.comp", [], None))
# prefill attention on cooperative matrices (f16 operands, f32 sums)
VARIANTS.append(("attn_cm", "attn_cm.comp", [], "coopmat"))
# the same on NV workgroup-scope matrices (UNICORN_VK_ATTN_CM2=1)
VARIANTS.append(("attn_cm2", "attn_cm2.comp", [], "coopmat2"))
# its form for steps whose positions wrap a sliding layer's ring (UNICORN_VK_ATTN_CM2_WRAP=0: not made)
VARIANTS.append(("attn_cm2_wrap", "attn_cm2.comp", ["WRAP"], "coopmat2"))
# both with the output rows summed in f16, as llama.cpp's kernel of this kind does (UNICORN_VK_ATTN_CM2_O16=1)
VARIANTS.append(("attn_cm2_o16", "attn_cm2.comp", ["O16"], "coopmat2"))
VARIANTS.append(("attn_cm2_wrap_o16", "attn_cm2.comp", ["WRAP", "O16"], "coopmat2"))

PROBES = {
    "coopmat": "#version 450\n#extension GL_KHR_cooperative_matrix : require\n"
               "layout(local_size_x = 32) in;\nvoid main() {}\n",
    "coopmat2": "#version 450\n#extension GL_NV_cooperative_matrix2 : require\n"
                "layout(local_size_x = 32) in;\nvoid main() {}\n",
    "int_dot": "#version 450\n#extension GL_EXT_integer_dot_product : require\n"
               "layout(local_size_x = 32) in;\nvoid main() {}\n",
}


def glslc_run(glslc, args):
    return subprocess.run([glslc] + args, capture_output=True, text=True)


def probe(glslc, src):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "probe.comp")
        with open(p, "w") as f:
            f.write(src)
        r = glslc_run(glslc, ["--target-env=vulkan1.3", p, "-o", os.path.join(d, "probe.spv")])
        return r.returncode == 0


# A shared variable that is not an array, in a kernel that loads cooperative matrices from shared
# memory: attn_cm.comp's `shared uint` flag made every one of its products read wrong rows on the
# H100 and H200 and nothing on lavapipe (docs/vulkan-sessions.md, nineteenth session), likely laid out before
# the arrays and moving them off the 16-byte alignment that coopMatLoad needs.
SHARED_SCALAR = re.compile(r"^\s*shared\s+\w+\s+\w+\s*(=[^;]*)?;", re.M)


def check_shared(srcdir):
    for src in sorted({v[1] for v in VARIANTS}):
        with open(os.path.join(srcdir, src)) as f:
            text = f.read()
        m = SHARED_SCALAR.search(text)
        if "coopMatLoad" in text and m:
            sys.exit(f"{src}: '{m.group(0).strip()}': a kernel with cooperative-matrix loads takes shared "
                     "arrays only (keep such a value in one of its arrays)")


def main():
    glslc, srcdir, out_c, out_h = sys.argv[1:5]
    check_shared(srcdir)
    have = {k: probe(glslc, v) for k, v in PROBES.items()}
    left_out = []
    blobs = []
    with tempfile.TemporaryDirectory() as d:
        for name, src, defs, need in VARIANTS:
            if need and not have[need]:
                left_out.append(name)
                continue
            spv = os.path.join(d, name + ".spv")
            # GL_NV_cooperative_matrix2 needs SPIR-V 1.6 (the host requires Vulkan 1.3 for it)
            env = "vulkan1.3" if need == "coopmat2" else "vulkan1.2"
            args = ["-fshader-stage=compute", f"--target-env={env}", "-O", "-I", srcdir]
            args += ["-D" + x for x in defs]
            args += [os.path.join(srcdir, src), "-o", spv]
            r = glslc_run(glslc, args)
            if r.returncode != 0:
                sys.stderr.write(r.stderr)
                sys.exit(f"glslc failed on {name}")
            with open(spv, "rb") as f:
                # Subgroup-scope KHR matrices: those kernels take 32 lanes a subgroup (the host
                # requires that size where the device's default differs).
                blobs.append((name, f.read(), need == "coopmat"))
    missing = [k for k, v in have.items() if not v]
    if missing:
        print(f"shaders: {glslc} lacks {', '.join(missing)}; "
              f"left out: {', '.join(left_out) if left_out else 'no variant needs them yet'} "
              f"(tools/get-glslc fetches a capable glslc)")
    with open(out_h, "w") as f:
        f.write("/* Generated by shaders/embed-spirv.py. */\n#pragma once\n#include <stddef.h>\n"
                "#include <stdint.h>\n\nstruct vk_spirv {\n\tconst char *name;\n"
                "\tconst uint32_t *code;\n\tsize_t size; /* bytes */\n"
                "\tint subgroup32; /* written for subgroups of 32 lanes (the cooperative-matrix kernels) */\n};\n\n"
                "extern const struct vk_spirv vk_spirv_table[];\nextern const size_t vk_spirv_count;\n"
                f"#define VK_SPIRV_HAVE_COOPMAT {int(have['coopmat'])}\n"
                f"#define VK_SPIRV_HAVE_INT_DOT {int(have['int_dot'])}\n"
                f"#define VK_SPIRV_HAVE_COOPMAT2 {int(have['coopmat2'])}\n")
    with open(out_c, "w") as f:
        f.write("/* Generated by shaders/embed-spirv.py. */\n#include \"%s\"\n\n" % os.path.basename(out_h))
        for name, b, _ in blobs:
            words = [int.from_bytes(b[i:i + 4], "little") for i in range(0, len(b), 4)]
            f.write(f"static const uint32_t spv_{name}[] = {{\n")
            for i in range(0, len(words), 8):
                f.write("\t" + ", ".join(f"0x{w:08x}" for w in words[i:i + 8]) + ",\n")
            f.write("};\n")
        f.write("\nconst struct vk_spirv vk_spirv_table[] = {\n")
        for name, b, sg32 in blobs:
            f.write(f"\t{{ \"{name}\", spv_{name}, sizeof spv_{name}, {int(sg32)} }},\n")
        f.write("};\nconst size_t vk_spirv_count = sizeof vk_spirv_table / sizeof vk_spirv_table[0];\n")


main()
