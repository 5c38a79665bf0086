// The skinny kernel (Sources/CKernels) against OpenBLAS sgemm/sgemv on one thread, by rows n:
// GFLOP/s of y (n, out) = x (n, in) · Wᵀ for Float32 W (skinny and sgemm) and BF16 W (skinny, panels).
// Times are the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID, best of REPS), so that a
// loaded machine's descheduling does not count; run with OPENBLAS_NUM_THREADS=1 (else sgemm's
// other threads are not counted). Build and run from the repository root:
//   clang -O2 -ISources/CKernels/include Sources/CKernels/ckernels.c benchmarks/skinny_bench.c \
//     -o /tmp/skinny_bench -lopenblas && OPENBLAS_NUM_THREADS=1 /tmp/skinny_bench 1024 3072 7
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include "ckernels.h"

static double now(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: skinny_bench IN OUT REPS\n"); return 2; }
    long in = atol(argv[1]), out = atol(argv[2]); int reps = atoi(argv[3]);
    float *w = malloc(sizeof(float) * in * out), *x = malloc(sizeof(float) * 64 * in);
    float *y = malloc(sizeof(float) * 64 * out), *y2 = malloc(sizeof(float) * 64 * out);
    uint16_t *bits = malloc(2 * in * out), *wb = calloc(ck_bf16_packed_count(in, out), 2);
    srand(1);
    for (long i = 0; i < in * out; i++) {
        w[i] = rand() / (float)RAND_MAX - 0.5f;
        uint32_t u; memcpy(&u, &w[i], 4); bits[i] = (uint16_t)(u >> 16);
    }
    ck_bf16_pack_span(wb, bits, 0, in * out, in);   /* the BF16 kernel reads panels */
    free(bits);
    for (long i = 0; i < 64 * in; i++) x[i] = rand() / (float)RAND_MAX - 0.5f;
    printf("in %ld, out %ld, vectorised %d; GFLOP/s (thread CPU time, best of %d)\n", in, out, ck_avx2_active(), reps);
    int ns[] = {1, 2, 4, 8, 12, 16, 24, 32, 48, 64};
    for (int a = 0; a < 10; a++) {
        int n = ns[a];
        double best[3] = {1e9, 1e9, 1e9};
        for (int r = 0; r < reps; r++) {
            double t0 = now();
            if (n == 1) cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1, w, in, x, 1, 0, y, 1);
            else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1, x, in, w, in, 0, y, out);
            double t1 = now();
            ck_skinny_f32(y2, x, w, n, in, out);
            double t2 = now();
            ck_skinny_bf16(y2, x, wb, n, in, out);
            double t3 = now();
            if (t1 - t0 < best[0]) best[0] = t1 - t0;
            if (t2 - t1 < best[1]) best[1] = t2 - t1;
            if (t3 - t2 < best[2]) best[2] = t3 - t2;
        }
        double f = 2.0 * n * in * out;
        printf("n=%2d  %s %6.1f | skinny f32 %6.1f | skinny bf16 %6.1f", n,
               n == 1 ? "sgemv" : "sgemm", f / best[0] / 1e9, f / best[1] / 1e9, f / best[2] / 1e9);
        if (n == 1) printf("   (W read at %.1f GB/s f32, %.1f GB/s bf16)", 4.0 * in * out / best[1] / 1e9, 2.0 * in * out / best[2] / 1e9);
        printf("\n");
    }
    return 0;
}
