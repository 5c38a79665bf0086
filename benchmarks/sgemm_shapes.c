// OpenBLAS sgemm alone on the products of a tiny-preset training step (16 × 64 tokens, C 64,
// I 192, 4 heads on 2 KV heads of 32, V 128) and on 1024³, 1 thread, warm caches, best of 5:
// what the matrix products of `sftrl lm bench --preset tiny` could reach if nothing else ran
// (docs/performance.md). Build and run from the repository root:
//   clang -O2 benchmarks/sgemm_shapes.c -o /tmp/sgemm_shapes -lopenblas && OPENBLAS_NUM_THREADS=1 /tmp/sgemm_shapes
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static void bench(const char *name, int ta, int tb, int m, int n, int k, int reps) {
    float *a = malloc(4 * m * k), *b = malloc(4 * k * n), *c = malloc(4 * m * n);
    for (int i = 0; i < m * k; i++) a[i] = (i % 7) * 0.1f; for (int i = 0; i < k * n; i++) b[i] = (i % 5) * 0.1f;
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        for (int q = 0; q < reps; q++)
            cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1, a, ta ? m : k, b, tb ? k : n, 0, c, n);
        double t = (now() - t0) / reps; if (t < best) best = t;
    }
    printf("%-28s %4dx%4dx%4d  %6.2f us  %5.1f GFLOP/s\n", name, m, n, k, best * 1e6, 2.0 * m * n * k / best / 1e9);
}
int main() {
    bench("scores Q·Kᵀ (tiny)", 0, 1, 128, 64, 32, 2000);
    bench("out P·V (tiny)", 0, 0, 128, 32, 64, 2000);
    bench("dV Pᵀ·dY (tiny)", 1, 0, 64, 32, 128, 2000);
    bench("linear fwd x·Wᵀ (tiny q)", 0, 1, 1024, 128, 64, 200);
    bench("linear fwd gate (tiny)", 0, 1, 1024, 192, 64, 200);
    bench("linear dW dYᵀ·x (tiny gate)", 1, 0, 192, 64, 1024, 200);
    bench("linear dX dY·W (tiny gate)", 0, 0, 1024, 64, 192, 200);
    bench("head fwd (tiny)", 0, 1, 1024, 128, 64, 200);
    bench("peak 1024", 0, 0, 1024, 1024, 1024, 3);
}
