// Skinny products y = x·Wᵀ (see ckernels.h). The Float32 AVX2 path holds a block of R ≤ 4 rows of W and
// S ≤ 3 rows of x and keeps R·S vectors of 8 partial sums in registers: one pass over an inner
// slice [k0, k1) costs R + S loads per R·S fused multiply-adds. The slice length is chosen so
// that the n·(k1−k0) floats of x stay in cache (L2) while every block of W rows streams past them
// once: W is read from memory once per call, whatever n.
#include "ckernels.h"
#include <stdlib.h>
#include <string.h>

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

// MARK: scalar path (any CPU): each row of W is reused from cache by all n rows of x.

static void skinny_f32_scalar(float *y, const float *x, const float *w, long n, long in, long out, long j0, long j1) {
    for (long j = j0; j < j1; j++) {
        const float *wj = w + j * in;
        for (long i = 0; i < n; i++) {
            const float *xi = x + i * in;
            float s = 0;
            for (long k = 0; k < in; k++) s += xi[k] * wj[k];
            y[i * out + j] = s;
        }
    }
}

// MARK: BF16 panels (see ckernels.h): element (j, k) of W (out, in) sits at
// (j/4)·4·inP + (k/16)·64 + (j%4)·16 + k%16, inP = in rounded up to 16; padding is zero.

static inline long bf16_inp(long in) { return (in + 15) & ~15L; }

long ck_bf16_packed_count(long in, long out) { return ((out + 3) & ~3L) * bf16_inp(in); }

static inline long bf16_at(long j, long k, long inp) { return (j >> 2) * 4 * inp + (k >> 4) * 64 + (j & 3) * 16 + (k & 15); }

void ck_bf16_pack_span(uint16_t *dst, const void *src, long start, long count, long in) {
    if (count <= 0 || in <= 0) return;  /* nothing to pack (and no division by in = 0) */
    const unsigned char *b = (const unsigned char *)src;
    long inp = bf16_inp(in), j = start / in, k = start % in;
    for (long i = 0; i < count; i++) {
        uint16_t v;
        memcpy(&v, b + 2 * i, 2);
        dst[bf16_at(j, k, inp)] = v;
        if (++k == in) { k = 0; j++; }
    }
}

void ck_bf16_packed_rows(float *dst, const uint16_t *w, long in, long j0, long rows) {
    long inp = bf16_inp(in);
    for (long j = j0; j < j0 + rows; j++) {
        const uint16_t *src = w + bf16_at(j, 0, inp);
        float *d = dst + (j - j0) * in;
        for (long c = 0; c < in; c += 16) {
            long m = in - c < 16 ? in - c : 16;
            for (long q = 0; q < m; q++) d[c + q] = bf16_to_f32(src[c * 4 + q]);
        }
    }
}

static void skinny_bf16_scalar(float *y, const float *x, const uint16_t *w, long n, long in, long out, long j0, long j1) {
    long inp = bf16_inp(in);
    for (long j = j0; j < j1; j++) {
        for (long i = 0; i < n; i++) {
            const float *xi = x + i * in;
            float s = 0;
            for (long k = 0; k < in; k++) s += xi[k] * bf16_to_f32(w[bf16_at(j, k, inp)]);
            y[i * out + j] = s;
        }
    }
}

void ck_skinny_f32_scalar(float *y, const float *x, const float *w, long n, long in, long out) {
    skinny_f32_scalar(y, x, w, n, in, out, 0, out);
}

void ck_skinny_bf16_scalar(float *y, const float *x, const uint16_t *w, long n, long in, long out) {
    skinny_bf16_scalar(y, x, w, n, in, out, 0, out);
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

// One block: y[s·ldy + r] (+)= Σ_{k < len} x[s·ldx + k] · w[r·ldw + k], r < R, s < S.
// `first` overwrites y, otherwise adds to it. R and S are constants after inlining.
static inline CK_AVX2 __attribute__((always_inline))
void mk_f32(float *y, long ldy, const float *x, long ldx, const float *w, long ldw, long len,
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

#define CK_CASE(RR, SS) case (RR) * 4 + (SS): mk_f32(yb, out, xb, ldx, wb, ldw, len, RR, SS, first); break;
#define CK_CASES CK_CASE(4, 3) CK_CASE(4, 2) CK_CASE(4, 1) CK_CASE(3, 3) CK_CASE(3, 2) CK_CASE(3, 1)  \
                 CK_CASE(2, 3) CK_CASE(2, 2) CK_CASE(2, 1) CK_CASE(1, 3) CK_CASE(1, 2) CK_CASE(1, 1)

// Every block of ≤ 3 rows of x against one block of R ≤ 4 rows of W over one inner slice (split
// 4 = 2 + 2 so that no block of one row remains when n ≥ 2).
static inline CK_AVX2 __attribute__((always_inline))
void blocks_f32(float *y, long out, const float *x, long ldx, const float *wb, long ldw, long len,
                long n, int R, int first) {
    for (long i = 0; i < n;) {
        long rem = n - i;
        int S = rem == 4 ? 2 : (rem < 3 ? (int)rem : 3);
        float *yb = y + i * out;
        const float *xb = x + i * ldx;
        switch (R * 4 + S) { CK_CASES }
        i += S;
    }
}

// Float32 W read in place: slices of the inner dimension, then blocks of 4 rows of W.
static CK_AVX2 void skinny_avx2_f32(float *y, const float *x, const float *w, long n, long in, long out, long j0, long j1) {
    long kb = (CK_X_BYTES / (4 * (n < 3 ? 3 : n))) & ~7L;
    if (kb < 256) kb = 256;
    if (kb >= in) kb = in;
    for (long k0 = 0; k0 < in; k0 += kb) {
        long len = k0 + kb < in ? kb : in - k0;
        for (long j = j0; j < j1; j += 4) {
            int R = j1 - j < 4 ? (int)(j1 - j) : 4;
            blocks_f32(y + j, out, x + k0, in, w + j * in + k0, in, len, n, R, k0 == 0);
        }
    }
}

// BF16 panels with one or two rows of x. A 32-byte load of a panel row holds 16 consecutive
// weights; as 32-bit lanes, the high half of lane l is weight 2l + 1, already a Float32 once the
// low half is masked off, and the low half shifted up is weight 2l. So x is permuted once per call
// into the same order (per 16 inputs: the 8 even ones, then the 8 odd ones), and each 32 bytes of
// W cost one load, one AND, one shift and two fused multiply-adds. The panels are one contiguous
// stream, prefetched 1 KiB ahead. Measured (1 thread, one row, all matrices of Qwen3-0.6B in turn,
// 1.19 GB): 20.4–21.9 GB/s, the single-core read limit of the machine, against 17.4–18.1 GB/s for
// four in-place rows widened with vpmovzxwd (the hardware prefetcher loses four 2 KiB streams).
#define CK_BF16_PREFETCH 1024
static CK_AVX2 void skinny_avx2_bf16_panels(float *y, const float *x, const uint16_t *w, long n, long in, long out, long j0, long j1) {
    long inp = bf16_inp(in);
    float *xp = aligned_alloc(32, sizeof(float) * (size_t)(n * inp));
    for (long s = 0; s < n; s++)
        for (long c = 0; c < inp; c += 16)
            for (long q = 0; q < 16; q++) {
                long k = c + (q < 8 ? 2 * q : 2 * (q - 8) + 1);
                xp[s * inp + c + q] = k < in ? x[s * in + k] : 0;
            }
    const __m256i hi = _mm256_set1_epi32((int)0xFFFF0000u);
    for (long j = j0; j < j1; j += 4) {
        const uint16_t *wb = w + j * inp;   // the panel of rows j … j+3
        __m256 acc[2][4][2];
        for (int s = 0; s < 2; s++)
            for (int r = 0; r < 4; r++) acc[s][r][0] = acc[s][r][1] = _mm256_setzero_ps();
        for (long c = 0; c < inp; c += 16) {
            const uint16_t *wc = wb + 4 * c;
            _mm_prefetch((const char *)wc + CK_BF16_PREFETCH, _MM_HINT_T0);
            _mm_prefetch((const char *)wc + CK_BF16_PREFETCH + 64, _MM_HINT_T0);
            __m256 xe0 = _mm256_load_ps(xp + c), xo0 = _mm256_load_ps(xp + c + 8);
            if (n == 1) {
                for (int r = 0; r < 4; r++) {
                    __m256i v = _mm256_loadu_si256((const __m256i *)(wc + 16 * r));
                    acc[0][r][0] = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(v, 16)), xe0, acc[0][r][0]);
                    acc[0][r][1] = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(v, hi)), xo0, acc[0][r][1]);
                }
            } else {
                __m256 xe1 = _mm256_load_ps(xp + inp + c), xo1 = _mm256_load_ps(xp + inp + c + 8);
                for (int r = 0; r < 4; r++) {
                    __m256i v = _mm256_loadu_si256((const __m256i *)(wc + 16 * r));
                    __m256 we = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)), wo = _mm256_castsi256_ps(_mm256_and_si256(v, hi));
                    acc[0][r][0] = _mm256_fmadd_ps(we, xe0, acc[0][r][0]);
                    acc[0][r][1] = _mm256_fmadd_ps(wo, xo0, acc[0][r][1]);
                    acc[1][r][0] = _mm256_fmadd_ps(we, xe1, acc[1][r][0]);
                    acc[1][r][1] = _mm256_fmadd_ps(wo, xo1, acc[1][r][1]);
                }
            }
        }
        int R = j1 - j < 4 ? (int)(j1 - j) : 4;
        for (long s = 0; s < n; s++) {
            float t[4];
            _mm_storeu_ps(t, hsum4(_mm256_add_ps(acc[s][0][0], acc[s][0][1]), _mm256_add_ps(acc[s][1][0], acc[s][1][1]),
                                   _mm256_add_ps(acc[s][2][0], acc[s][2][1]), _mm256_add_ps(acc[s][3][0], acc[s][3][1])));
            for (int r = 0; r < R; r++) y[s * out + j + r] = t[r];
        }
    }
    free(xp);
}

// BF16 panels with three or more rows of x: each panel × one inner slice is widened once into a
// Float32 block in L1, then multiplied by every block of x rows like Float32 W (widening in
// registers would repeat it per block of x rows). Measured (1 thread, n = 16, 1,024 × 151,936):
// 50–56 GFLOP/s, like Float32 W read in place (43–50).
static CK_AVX2 void skinny_avx2_bf16_staged(float *y, const float *x, const uint16_t *w, long n, long in, long out, long j0, long j1) {
    long inp = bf16_inp(in);
    long kb = (CK_X_BYTES / (4 * n)) & ~15L;
    if (kb < 256) kb = 256;
    if (kb > CK_WIDE_MAX) kb = CK_WIDE_MAX;
    if (kb > inp) kb = inp;
    float wf[4 * CK_WIDE_MAX] __attribute__((aligned(32)));   /* 4 rows × kb */
    for (long k0 = 0; k0 < in; k0 += kb) {
        long ldw = k0 + kb < inp ? kb : inp - k0;               /* widened (multiple of 16) */
        long len = k0 + kb < in ? kb : in - k0;                  /* used */
        for (long j = j0; j < j1; j += 4) {
            const uint16_t *wc = w + j * inp + 4 * k0;
            for (long c = 0; c < ldw; c += 16)
                for (int r = 0; r < 4; r++) {
                    __m256i v = _mm256_loadu_si256((const __m256i *)(wc + 4 * c + 16 * r));
                    __m256i lo = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(v));
                    __m256i up = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(v, 1));
                    _mm256_store_ps(wf + r * ldw + c, _mm256_castsi256_ps(_mm256_slli_epi32(lo, 16)));
                    _mm256_store_ps(wf + r * ldw + c + 8, _mm256_castsi256_ps(_mm256_slli_epi32(up, 16)));
                }
            int R = j1 - j < 4 ? (int)(j1 - j) : 4;
            blocks_f32(y + j, out, x + k0, in, wf, ldw, len, n, R, k0 == 0);
        }
    }
}
#endif

void ck_skinny_f32_cols(float *y, const float *x, const float *w, long n, long in, long out, long j0, long j1) {
    if (j1 > out) j1 = out;
    if (n <= 0 || j0 >= j1) return;
    if (in <= 0) { for (long i = 0; i < n; i++) for (long j = j0; j < j1; j++) y[i * out + j] = 0; return; }
#if CK_X86
    if (ck_avx2_active()) { skinny_avx2_f32(y, x, w, n, in, out, j0, j1); return; }
#endif
    skinny_f32_scalar(y, x, w, n, in, out, j0, j1);
}

void ck_skinny_bf16_cols(float *y, const float *x, const uint16_t *w, long n, long in, long out, long j0, long j1) {
    if (j1 > out) j1 = out;
    if (n <= 0 || j0 >= j1) return;
    if (in <= 0) { for (long i = 0; i < n; i++) for (long j = j0; j < j1; j++) y[i * out + j] = 0; return; }
#if CK_X86
    if (ck_avx2_active()) {
        long head = (j0 + 3) & ~3L;   /* panels start at multiples of 4: columns before the first whole panel */
        if (head > j0) { skinny_bf16_scalar(y, x, w, n, in, out, j0, head < j1 ? head : j1); j0 = head; }
        if (j0 >= j1) return;
        if (n <= 2) skinny_avx2_bf16_panels(y, x, w, n, in, out, j0, j1);
        else skinny_avx2_bf16_staged(y, x, w, n, in, out, j0, j1);
        return;
    }
#endif
    skinny_bf16_scalar(y, x, w, n, in, out, j0, j1);
}

void ck_skinny_f32(float *y, const float *x, const float *w, long n, long in, long out) {
    ck_skinny_f32_cols(y, x, w, n, in, out, 0, out);
}

void ck_skinny_bf16(float *y, const float *x, const uint16_t *w, long n, long in, long out) {
    ck_skinny_bf16_cols(y, x, w, n, in, out, 0, out);
}
