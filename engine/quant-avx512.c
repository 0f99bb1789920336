/* SPDX-License-Identifier: MIT */
/*
 * AVX-512 kernels. The integer kernels are the AVX2 ones (quant-avx2.c,
 * included below) rebuilt with QUANT_VNNI: every u8 × s8 4-way sum becomes
 * one vpdpbusd, and the EVEX encoding gives 32 vector registers, which the
 * wider 4 × 4 prefill tile uses. They are only installed when the CPU has
 * AVX512-VNNI (checked at run time by the caller); without it the AVX2
 * integer kernels stay in place, which is what AVX-512 F/BW would gain
 * little over.
 */

#define KNAME(name) name##_avx512vnni
#define QUANT_VNNI 1
#include "quant-avx2.c"

void quant_kernels_avx512vnni(struct quant_kernels *k);

void quant_kernels_avx512(struct quant_kernels *k, bool vnni) {
        if (vnni)
                quant_kernels_avx512vnni(k);
}
