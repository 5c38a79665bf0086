#ifndef SFTRL_CGSLMIN_H
#define SFTRL_CGSLMIN_H
// GSL's multidimensional minimisers behind plain C types. This header includes no GSL header:
// gsl_multimin.h pulls gsl_cblas.h, whose CBLAS enums clash with OpenBLAS's cblas.h in any Swift
// module that imports both. Only cgslmin.c sees GSL.
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// f(x): the objective at x[0..<n]. `context` is the pointer given to the minimiser.
typedef double (*cgslmin_f)(const double *x, size_t n, void *context);
/// grad[0..<n] = ∇f(x) and, in *value, f(x). Used by the gradient method.
typedef void (*cgslmin_fdf)(const double *x, size_t n, void *context, double *value, double *grad);

/// Which minimiser a handle runs.
typedef enum {
    CGSLMIN_NELDER_MEAD = 0,   // gsl_multimin_fminimizer_nmsimplex2 (derivative-free)
    CGSLMIN_BFGS2 = 1,         // gsl_multimin_fdfminimizer_vector_bfgs2 (gradient)
} cgslmin_method;

/// An opaque minimiser state.
typedef struct cgslmin_state cgslmin_state;

/// A Nelder–Mead minimiser in n dimensions started at x0 with initial simplex steps `step`
/// (one per coordinate). Returns NULL when allocation or set-up fails (*status holds the GSL code).
cgslmin_state *cgslmin_nelder_mead_new(size_t n, const double *x0, const double *step,
                                       cgslmin_f f, void *context, int *status);

/// A BFGS2 minimiser started at x0: first trial step `step`, line-search tolerance `tol`
/// (GSL suggests 0.1 for BFGS). NULL on failure (*status holds the GSL code).
cgslmin_state *cgslmin_bfgs2_new(size_t n, const double *x0, double step, double tol,
                                 cgslmin_f f, cgslmin_fdf fdf, void *context, int *status);

/// One iteration; returns the GSL status (0 on success, GSL_ENOPROG = 27 when no progress).
int cgslmin_iterate(cgslmin_state *s);

/// Copies the current best point into x[0..<n].
void cgslmin_x(const cgslmin_state *s, double *x);

/// The objective at the current best point.
double cgslmin_value(const cgslmin_state *s);

/// Nelder–Mead: the simplex's characteristic size; BFGS2: the gradient norm at the best point.
double cgslmin_size(const cgslmin_state *s);

/// Which method the state runs.
cgslmin_method cgslmin_method_of(const cgslmin_state *s);

void cgslmin_free(cgslmin_state *s);

/// GSL's text for a status code.
const char *cgslmin_strerror(int status);

/// Replaces GSL's aborting error handler by "return the code" (process-wide, idempotent).
void cgslmin_disable_abort(void);

#ifdef __cplusplus
}
#endif
#endif
