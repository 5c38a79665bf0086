// One decoding step's matrix products, alone: y = x·Wᵀ with one row x for every matrix of
// Qwen3-0.6B in turn (28 layers × q, k, v, o, gate, up, down, then the 151,936-row head), with
// Float32 W (read in place) and BF16 W (panels), against the single-core read limit (a plain
// vector sum over the same bytes). Best of ROUNDS wall times; the weights (3.6 GB in all) are far
// larger than the caches, so every step streams them from memory. Build and run from the root:
//   clang -O2 -ISources/CKernels/include Sources/CKernels/ckernels.c benchmarks/decode_stream_bench.c \
//     -o /tmp/decode_stream_bench && /tmp/decode_stream_bench 5
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "ckernels.h"

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

__attribute__((target("avx2"))) static float sum_bytes(const float *p, long n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (long i = 0; i + 32 <= n; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p + i)); a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p + i + 16)); a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p + i + 24));
    }
    float t[8]; _mm256_storeu_ps(t, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    return t[0] + t[7];
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    if (rounds < 1) { fprintf(stderr, "usage: decode_stream_bench [ROUNDS ≥ 1]\n"); return 2; }
    const long shapes[7][2] = {{1024, 2048}, {1024, 1024}, {1024, 1024}, {2048, 1024}, {1024, 3072}, {1024, 3072}, {3072, 1024}};
    enum { NM = 28 * 7 + 1 };
    long in[NM], out[NM]; float *wf[NM]; uint16_t *wb[NM]; double f32_bytes = 0, bf16_bytes = 0;
    for (int i = 0; i < NM; i++) {
        in[i] = i < NM - 1 ? shapes[i % 7][0] : 1024; out[i] = i < NM - 1 ? shapes[i % 7][1] : 151936;
        long n = in[i] * out[i];
        wf[i] = malloc(4 * n); wb[i] = calloc(ck_bf16_packed_count(in[i], out[i]), 2);
        uint16_t *bits = malloc(2 * n);
        for (long q = 0; q < n; q++) { wf[i][q] = (float)((q * 2654435761u >> 20) & 255) / 4096 - 0.03f; bits[q] = (uint16_t)(0x3c00 + (q & 255)); }
        ck_bf16_pack_span(wb[i], bits, 0, n, in[i]);
        free(bits);
        f32_bytes += 4.0 * n; bf16_bytes += 2.0 * n;
    }
    float *x = malloc(4 * 3072), *y = malloc(4 * 151936); volatile float sink = 0;
    for (int k = 0; k < 3072; k++) x[k] = (k % 17) * 0.01f - 0.08f;
    double best[3] = {1e9, 1e9, 1e9};
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        for (int i = 0; i < NM; i++) ck_skinny_f32(y, x, wf[i], 1, in[i], out[i]);
        double t1 = now();
        for (int i = 0; i < NM; i++) ck_skinny_bf16(y, x, wb[i], 1, in[i], out[i]);
        double t2 = now();
        for (int i = 0; i < NM; i++) sink += sum_bytes(wf[i], in[i] * out[i]);
        double t3 = now();
        if (t1 - t0 < best[0]) best[0] = t1 - t0;
        if (t2 - t1 < best[1]) best[1] = t2 - t1;
        if (t3 - t2 < best[2]) best[2] = t3 - t2;
    }
    printf("one decoding step's products, Qwen3-0.6B, 1 thread, AVX2+FMA %d, best of %d:\n", ck_avx2_active(), rounds);
    printf("  f32 W  (%.2f GB): %6.1f ms  %5.1f GB/s  -> at most %5.1f tokens/s\n", f32_bytes / 1e9, best[0] * 1e3, f32_bytes / best[0] / 1e9, 1 / best[0]);
    printf("  bf16 W (%.2f GB): %6.1f ms  %5.1f GB/s  -> at most %5.1f tokens/s\n", bf16_bytes / 1e9, best[1] * 1e3, bf16_bytes / best[1] / 1e9, 1 / best[1]);
    printf("  read limit (vector sum of the f32 bytes): %.1f GB/s\n", f32_bytes / best[2] / 1e9);
    return 0;
}
