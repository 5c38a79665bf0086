// Skinny products y = x·Wᵀ (see ckernels.h). The AVX2 path holds a block of R ≤ 4 rows of W and
// S ≤ 3 rows of x and keeps R·S vectors of 8 partial sums in registers: one pass over an inner
// slice [k0, k1) costs R + S loads per R·S fused multiply-adds. The slice length is chosen so
// that the n·(k1−k0) floats of x stay in cache (L2) while every block of W rows streams past them
// once: W is read from memory once per call, whatever n.
#include "ckernels.h"

#if defined(__x86_64__) || defined(__i386__)
#define CK_X86 1
#include <immintrin.h>
#else
#define CK_X86 0
#endif

int ck_avx2_active(void) {
#if CK_X86
    static int cached = -1;
    int c = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (c < 0) {
        __builtin_cpu_init();
        c = (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 1 : 0;
        __atomic_store_n(&cached, c, __ATOMIC_RELAXED);
    }
    return c;
#else
    return 0;
#endif
}

static inline float bf16_to_f32(uint16_t b) {
    union { uint32_t u; float f; } v = { .u = (uint32_t)b << 16 };
    return v.f;
}

void ck_bf16_to_f32(float *dst, const uint16_t *src, long count) {
    for (long i = 0; i < count; i++) dst[i] = bf16_to_f32(src[i]);
}

// MARK: scalar path (any CPU): each row of W is reused from cache by all n rows of x.

void ck_skinny_f32_scalar(float *y, const float *x, const float *w, long n, long in, long out) {
    for (long j = 0; j < out; j++) {
        const float *wj = w + j * in;
        for (long i = 0; i < n; i++) {
            const float *xi = x + i * in;
            float s = 0;
            for (long k = 0; k < in; k++) s += xi[k] * wj[k];
            y[i * out + j] = s;
        }
    }
}

void ck_skinny_bf16_scalar(float *y, const float *x, const uint16_t *w, long n, long in, long out) {
    for (long j = 0; j < out; j++) {
        const uint16_t *wj = w + j * in;
        for (long i = 0; i < n; i++) {
            const float *xi = x + i * in;
            float s = 0;
            for (long k = 0; k < in; k++) s += xi[k] * bf16_to_f32(wj[k]);
            y[i * out + j] = s;
        }
    }
}

#if CK_X86
// MARK: AVX2 + FMA path

#define CK_AVX2 __attribute__((target("avx2,fma")))

/// The four horizontal sums of a0…a3 as one 128-bit vector (lane r = Σ a_r).
static inline CK_AVX2 __attribute__((always_inline)) __m128 hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    __m256 t0 = _mm256_hadd_ps(a0, a1);        // a0 pairs, a1 pairs (per 128-bit half)
    __m256 t1 = _mm256_hadd_ps(a2, a3);
    __m256 t = _mm256_hadd_ps(t0, t1);         // per half: Σa0, Σa1, Σa2, Σa3 (partial)
    return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

static inline CK_AVX2 __attribute__((always_inline)) float hsum1(__m256 a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Budget for the slice of x (S rows … n rows × inner slice) kept in cache while W streams past:
// half of Zen 3's 512 KiB L2. Measured (1 thread, n = 16, in 1,024–3,072): slicing for L1 (24 KiB)
// ran at 40–45 GFLOP/s, whole rows from L2 at 50–60 (fewer partial reductions), so slices only
// start for wider inputs than Qwen3-0.6B's.
#ifndef CK_X_BYTES
#define CK_X_BYTES 262144
#endif
#define CK_WIDE_MAX 4096   // most inner-slice floats of the widened BF16 block (4 rows: 64 KiB)
#define LOADW_F32(p) _mm256_loadu_ps(p)
#define LOADW_BF16(p) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p))), 16))
#define SCALARW_F32(v) (v)
#define SCALARW_BF16(v) bf16_to_f32(v)

// One block: y[s·ldy + r] (+)= Σ_{k0 ≤ k < k1} x[s·ld + k] · w[r·ld + k], r < R, s < S.
// `first` overwrites y, otherwise adds to it. R and S are constants after inlining.
#define DEFINE_MICROKERNEL(NAME, WT, LOADW, SCALARW)                                                   \
static inline CK_AVX2 __attribute__((always_inline))                                                   \
void NAME(float *y, long ldy, const float *x, const WT *w, long ld, long k0, long k1,                  \
          const int R, const int S, int first, const char *pf) {                                       \
    __m256 acc[4][3];                                                                                  \
    for (int r = 0; r < R; r++)                                                                        \
        for (int s = 0; s < S; s++) acc[r][s] = _mm256_setzero_ps();                                   \
    long k = k0;                                                                                       \
    for (; k + 8 <= k1; k += 8) {                                                                      \
        __m256 xv[3];                                                                                  \
        if (pf) {                                                                                      \
            const char *p = pf + (k - k0) * 4 * (long)sizeof(WT);                                      \
            _mm_prefetch(p, _MM_HINT_T0);                                                              \
            if (sizeof(WT) == 4) _mm_prefetch(p + 64, _MM_HINT_T0);                                    \
        }                                                                                              \
        for (int s = 0; s < S; s++) xv[s] = _mm256_loadu_ps(x + s * ld + k);                           \
        for (int r = 0; r < R; r++) {                                                                  \
            __m256 wv = LOADW(w + r * ld + k);                                                         \
            for (int s = 0; s < S; s++) acc[r][s] = _mm256_fmadd_ps(wv, xv[s], acc[r][s]);             \
        }                                                                                              \
    }                                                                                                  \
    for (int s = 0; s < S; s++) {                                                                      \
        float t[4];                                                                                    \
        if (R == 4) {                                                                                  \
            _mm_storeu_ps(t, hsum4(acc[0][s], acc[1][s], acc[2][s], acc[3][s]));                       \
        } else {                                                                                       \
            for (int r = 0; r < R; r++) t[r] = hsum1(acc[r][s]);                                       \
        }                                                                                              \
        for (long kk = k; kk < k1; kk++) {                                                             \
            float xs = x[s * ld + kk];                                                                 \
            for (int r = 0; r < R; r++) t[r] += xs * SCALARW(w[r * ld + kk]);                          \
        }                                                                                              \
        float *ys = y + s * ldy;                                                                       \
        if (first) { for (int r = 0; r < R; r++) ys[r] = t[r]; }                                       \
        else { for (int r = 0; r < R; r++) ys[r] += t[r]; }                                            \
    }                                                                                                  \
}

DEFINE_MICROKERNEL(mk_f32, float, LOADW_F32, SCALARW_F32)

// As mk_f32 over k in [0, len), with x rows of stride ldx and w rows of stride ldw.
static inline CK_AVX2 __attribute__((always_inline))
void mk_f32_2ld(float *y, long ldy, const float *x, long ldx, const float *w, long ldw, long len,
                const int R, const int S, int first) {
    __m256 acc[4][3];
    for (int r = 0; r < R; r++)
        for (int s = 0; s < S; s++) acc[r][s] = _mm256_setzero_ps();
    long k = 0;
    for (; k + 8 <= len; k += 8) {
        __m256 xv[3];
        for (int s = 0; s < S; s++) xv[s] = _mm256_loadu_ps(x + s * ldx + k);
        for (int r = 0; r < R; r++) {
            __m256 wv = _mm256_loadu_ps(w + r * ldw + k);
            for (int s = 0; s < S; s++) acc[r][s] = _mm256_fmadd_ps(wv, xv[s], acc[r][s]);
        }
    }
    for (int s = 0; s < S; s++) {
        float t[4];
        if (R == 4) {
            _mm_storeu_ps(t, hsum4(acc[0][s], acc[1][s], acc[2][s], acc[3][s]));
        } else {
            for (int r = 0; r < R; r++) t[r] = hsum1(acc[r][s]);
        }
        for (long kk = k; kk < len; kk++) {
            float xs = x[s * ldx + kk];
            for (int r = 0; r < R; r++) t[r] += xs * w[r * ldw + kk];
        }
        float *ys = y + s * ldy;
        if (first) { for (int r = 0; r < R; r++) ys[r] = t[r]; }
        else { for (int r = 0; r < R; r++) ys[r] += t[r]; }
    }
}
DEFINE_MICROKERNEL(mk_bf16, uint16_t, LOADW_BF16, SCALARW_BF16)

#define CK_CASE(MK, RR, SS) case (RR) * 4 + (SS): MK(yb, out, xb, wb, in, k0, k1, RR, SS, first, pf); break;

// The blocked driver: slices of the inner dimension, then blocks of 4 rows of W, then blocks of
// ≤ 3 rows of x (split 4 = 2 + 2 so that no block of one row remains when n ≥ 2).
#define DEFINE_DRIVER(NAME, WT, MK)                                                                    \
static CK_AVX2 void NAME(float *y, const float *x, const WT *w, long n, long in, long out) {           \
    long kb = (CK_X_BYTES / (4 * (n < 3 ? 3 : n))) & ~7L;                                                   \
    if (kb < 256) kb = 256;                                                                            \
    if (kb >= in) kb = in;                                                                             \
    for (long k0 = 0; k0 < in; k0 += kb) {                                                             \
        long k1 = k0 + kb < in ? k0 + kb : in;                                                         \
        int first = k0 == 0;                                                                           \
        for (long j = 0; j < out; j += 4) {                                                            \
            int R = out - j < 4 ? (int)(out - j) : 4;                                                  \
            const WT *wb = w + j * in;                                                                 \
            for (long i = 0; i < n;) {                                                                 \
                long rem = n - i;                                                                      \
                int S = rem == 4 ? 2 : (rem < 3 ? (int)rem : 3);                                       \
                float *yb = y + i * out + j;                                                           \
                const float *xb = x + i * in;                                                          \
                /* BF16: the first block of x rows also prefetches the next 4 rows of W (whole     \
                   rows). Measured at one row, 1,024 × 151,936: 14–15 GB/s against 12 without;     \
                   for Float32 W it lost 15 % (17 against 20 GB/s), so Float32 W does not. */      \
                const char *pf = (sizeof(WT) == 2 && i == 0 && kb == in && j + 8 <= out)               \
                    ? (const char *)(wb + 4 * in) : 0;                                                 \
                switch (R * 4 + S) {                                                                   \
                    CK_CASE(MK, 4, 3) CK_CASE(MK, 4, 2) CK_CASE(MK, 4, 1)                              \
                    CK_CASE(MK, 3, 3) CK_CASE(MK, 3, 2) CK_CASE(MK, 3, 1)                              \
                    CK_CASE(MK, 2, 3) CK_CASE(MK, 2, 2) CK_CASE(MK, 2, 1)                              \
                    CK_CASE(MK, 1, 3) CK_CASE(MK, 1, 2) CK_CASE(MK, 1, 1)                              \
                }                                                                                      \
                i += S;                                                                                \
            }                                                                                          \
        }                                                                                              \
    }                                                                                                  \
}

DEFINE_DRIVER(skinny_avx2_f32, float, mk_f32)
DEFINE_DRIVER(skinny_avx2_bf16_inreg, uint16_t, mk_bf16)

// BF16 W with three or more x rows: each block of 4 W rows × one inner slice is widened once into
// a Float32 buffer in L1, then multiplied by every block of x rows (widening in registers would
// repeat it per block of x rows). Measured (1 thread, n = 16, 1,024 × 151,936): 50–56 GFLOP/s,
// like Float32 W read in place (43–50); staging Float32 W the same way gained nothing, nor did
// it for one row, so Float32 W and BF16 W with ≤ 2 rows are read in place.
#define DEFINE_STAGED(NAME, WT, LOADW, SCALARW)                                                        \
static CK_AVX2 void NAME(float *y, const float *x, const WT *w, long n, long in, long out) {           \
    long kb = (CK_X_BYTES / (4 * n)) & ~7L;                                                            \
    if (kb < 256) kb = 256;                                                                            \
    if (kb >= in) kb = in;                                                                             \
    float wf[4 * CK_WIDE_MAX] __attribute__((aligned(32)));   /* 4 rows × kb ≤ CK_WIDE_MAX */          \
    if (kb > CK_WIDE_MAX) kb = CK_WIDE_MAX;                                                            \
    for (long k0 = 0; k0 < in; k0 += kb) {                                                             \
        long k1 = k0 + kb < in ? k0 + kb : in, len = k1 - k0;                                          \
        int first = k0 == 0;                                                                           \
        for (long j = 0; j < out; j += 4) {                                                            \
            int R = out - j < 4 ? (int)(out - j) : 4;                                                  \
            for (int r = 0; r < R; r++) {                                                              \
                const WT *src = w + (j + r) * in + k0;                                                 \
                float *dst = wf + r * len;                                                             \
                long k = 0;                                                                            \
                for (; k + 8 <= len; k += 8) _mm256_storeu_ps(dst + k, LOADW(src + k));                \
                for (; k < len; k++) dst[k] = SCALARW(src[k]);                                         \
            }                                                                                          \
            /* the staged block: rows of stride len, column 0 = k0 */                                  \
            for (long i = 0; i < n;) {                                                                 \
                long rem = n - i;                                                                      \
                int S = rem == 4 ? 2 : (rem < 3 ? (int)rem : 3);                                       \
                float *yb = y + i * out + j;                                                           \
                const float *xb = x + i * in + k0;                                                     \
                switch (R * 4 + S) {                                                                   \
                    CK_CASE2(4, 3) CK_CASE2(4, 2) CK_CASE2(4, 1) CK_CASE2(3, 3) CK_CASE2(3, 2)         \
                    CK_CASE2(3, 1) CK_CASE2(2, 3) CK_CASE2(2, 2) CK_CASE2(2, 1) CK_CASE2(1, 3)         \
                    CK_CASE2(1, 2) CK_CASE2(1, 1)                                                      \
                }                                                                                      \
                i += S;                                                                                \
            }                                                                                          \
        }                                                                                              \
    }                                                                                                  \
}
#define CK_CASE2(RR, SS) case (RR) * 4 + (SS): mk_f32_2ld(yb, out, xb, in, wf, len, len, RR, SS, first); break;

DEFINE_STAGED(skinny_avx2_bf16_staged, uint16_t, LOADW_BF16, SCALARW_BF16)

static CK_AVX2 void skinny_avx2_bf16(float *y, const float *x, const uint16_t *w, long n, long in, long out) {
    if (n <= 2) skinny_avx2_bf16_inreg(y, x, w, n, in, out); else skinny_avx2_bf16_staged(y, x, w, n, in, out);
}
#endif

void ck_skinny_f32(float *y, const float *x, const float *w, long n, long in, long out) {
    if (n <= 0 || out <= 0) return;
    if (in <= 0) { for (long i = 0; i < n * out; i++) y[i] = 0; return; }
#if CK_X86
    if (ck_avx2_active()) {
        skinny_avx2_f32(y, x, w, n, in, out);
        return;
    }
#endif
    ck_skinny_f32_scalar(y, x, w, n, in, out);
}

void ck_skinny_bf16(float *y, const float *x, const uint16_t *w, long n, long in, long out) {
    if (n <= 0 || out <= 0) return;
    if (in <= 0) { for (long i = 0; i < n * out; i++) y[i] = 0; return; }
#if CK_X86
    if (ck_avx2_active()) {
        skinny_avx2_bf16(y, x, w, n, in, out);
        return;
    }
#endif
    ck_skinny_bf16_scalar(y, x, w, n, in, out);
}
