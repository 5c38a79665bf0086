#ifndef SFTRL_COPENBLAS_SHIM_H
#define SFTRL_COPENBLAS_SHIM_H
#include <cblas.h>
// OpenBLAS extensions (declared in its cblas.h; repeated for clarity of what we use).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

// LAPACK routines that libopenblas carries (its Fortran entry points, column-major, every argument
// by pointer, the lengths of character arguments appended as size_t). sftrl calls these directly
// instead of LAPACKE, whose library pulls in four more shared libraries at every start.
#include <stddef.h>
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);
void dgesv_(const int *n, const int *nrhs, double *a, const int *lda, int *ipiv, double *b,
            const int *ldb, int *info);
#endif
