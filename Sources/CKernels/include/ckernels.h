// Skinny matrix products for inference: y (n, out) = x (n, in) · Wᵀ with W row-major (out, in), as
// Hugging Face stores Linear weights, for few rows n (decoding, short prompts). W is read in place
// (no packing), each element once per call; x is kept in cache by slicing the inner dimension.
// An AVX2 + FMA path is chosen at run time (the package is never compiled with -march flags);
// the portable scalar path serves other CPUs and the tests.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stdint.h>

/// 1 when this CPU has AVX2 and FMA, so that ck_skinny_* take the vectorised path.
int ck_avx2_active(void);

/// y[i·out + j] = Σ_k x[i·in + k] · w[j·in + k] for i < n, j < out (y is overwritten).
/// Float32 accumulation; the order of the sum differs from sgemm's (round-off only).
void ck_skinny_f32(float *y, const float *x, const float *w, long n, long in, long out);

/// The same with W in bfloat16 bits (the upper 16 bits of a Float32), widened exactly to Float32.
void ck_skinny_bf16(float *y, const float *x, const uint16_t *w, long n, long in, long out);

/// The portable scalar paths that ck_skinny_* take on CPUs without AVX2 + FMA (callable
/// directly so that tests check them on any CPU, without process-wide state).
void ck_skinny_f32_scalar(float *y, const float *x, const float *w, long n, long in, long out);
void ck_skinny_bf16_scalar(float *y, const float *x, const uint16_t *w, long n, long in, long out);

/// dst[i] = the Float32 value of the bfloat16 bits src[i] (exact).
void ck_bf16_to_f32(float *dst, const uint16_t *src, long count);

#endif
