// Skinny matrix products for inference: y (n, out) = x (n, in) · Wᵀ for few rows n (decoding,
// short prompts). Float32 W is row-major (out, in), as Hugging Face stores Linear weights, and read
// in place (no packing); BF16 W is kept as panels (below) so that a one-row product reads it as one
// stream. Each element of W is read once per call; x is kept in cache by slicing the inner
// dimension. An AVX2 + FMA path is chosen at run time (the package is never compiled with -march
// flags); the portable scalar path serves other CPUs and the tests.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stdint.h>

/// 1 when this CPU has AVX2 and FMA, so that ck_skinny_* take the vectorised path.
int ck_avx2_active(void);

/// y[i·out + j] = Σ_k x[i·in + k] · w[j·in + k] for i < n, j < out (y is overwritten).
/// Float32 accumulation; the order of the sum differs from sgemm's (round-off only).
void ck_skinny_f32(float *y, const float *x, const float *w, long n, long in, long out);

/// The same with W in bfloat16 bits (the upper 16 bits of a Float32), widened exactly to Float32,
/// stored as BF16 panels (ck_bf16_pack_span).
void ck_skinny_bf16(float *y, const float *x, const uint16_t *w, long n, long in, long out);

/// Columns j0 ..< j1 of y only (rows j0 ..< j1 of W; j1 is clipped to out; y keeps its row stride
/// out), so that threads can share one product. When j0 and j1 (unless j1 ≥ out) are multiples of
/// 4, every column is computed exactly as by the whole product (the kernels work in blocks of 4
/// rows of W). For BF16, columns before the first multiple of 4 take the scalar path.
void ck_skinny_f32_cols(float *y, const float *x, const float *w, long n, long in, long out, long j0, long j1);
void ck_skinny_bf16_cols(float *y, const float *x, const uint16_t *w, long n, long in, long out, long j0, long j1);

/// BF16 panels: W (out, in) in blocks of 4 rows; each block holds, per 16 consecutive inputs, the
/// 16 weights of its row 0, then of rows 1, 2, 3 (128 bytes). Element (j, k) is at
/// (j/4)·4·inP + (k/16)·64 + (j%4)·16 + k%16 with inP = in rounded up to 16, so a one-row product
/// reads W as one contiguous stream. Padding (rows ≥ out, inputs ≥ in) must be zero.
/// The number of uint16_t a panel matrix takes: (out rounded up to 4) · inP.
long ck_bf16_packed_count(long in, long out);

/// Stores count row-major bfloat16 values (src: 2-byte values, any alignment) that start at flat
/// index `start` = j·in + k of W into the panels dst (zero-initialised before the first call).
void ck_bf16_pack_span(uint16_t *dst, const void *src, long start, long count, long in);

/// Rows j0 … j0+rows−1 of the panel matrix w, widened exactly to Float32, row-major into dst.
void ck_bf16_packed_rows(float *dst, const uint16_t *w, long in, long j0, long rows);

/// The portable scalar paths that ck_skinny_* take on CPUs without AVX2 + FMA (callable
/// directly so that tests check them on any CPU, without process-wide state).
void ck_skinny_f32_scalar(float *y, const float *x, const float *w, long n, long in, long out);
void ck_skinny_bf16_scalar(float *y, const float *x, const uint16_t *w, long n, long in, long out);

#endif
