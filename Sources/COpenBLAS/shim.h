#ifndef SFTRL_COPENBLAS_SHIM_H
#define SFTRL_COPENBLAS_SHIM_H
#include <cblas.h>
// OpenBLAS extensions (declared in its cblas.h; repeated for clarity of what we use).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
char *openblas_get_corename(void);

#endif
