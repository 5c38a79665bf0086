// GSL's minimisers behind the plain-C interface of cgslmin.h (see there for why).
#include "cgslmin.h"
#include <math.h>
#include <stdlib.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_vector.h>

struct cgslmin_state {
    cgslmin_method method;
    size_t n;
    cgslmin_f f;
    cgslmin_fdf fdf;
    void *context;
    double *scratch;              // a contiguous copy of x when GSL hands a strided vector
    gsl_multimin_function fn;
    gsl_multimin_function_fdf fnfdf;
    gsl_multimin_fminimizer *nm;
    gsl_multimin_fdfminimizer *grad;
};

// x as a contiguous array (GSL's own vectors have stride 1; a view may not).
static const double *contiguous(struct cgslmin_state *s, const gsl_vector *x) {
    if (x->stride == 1) return x->data;
    for (size_t i = 0; i < s->n; i++) s->scratch[i] = gsl_vector_get(x, i);
    return s->scratch;
}

static double f_trampoline(const gsl_vector *x, void *params) {
    struct cgslmin_state *s = params;
    return s->f(contiguous(s, x), s->n, s->context);
}

static void fdf_trampoline(const gsl_vector *x, void *params, double *value, gsl_vector *g) {
    struct cgslmin_state *s = params;
    double *grad = malloc(s->n * sizeof(double));
    if (!grad) { *value = GSL_NAN; gsl_vector_set_all(g, GSL_NAN); return; }
    s->fdf(contiguous(s, x), s->n, s->context, value, grad);
    for (size_t i = 0; i < s->n; i++) gsl_vector_set(g, i, grad[i]);
    free(grad);
}

static void df_trampoline(const gsl_vector *x, void *params, gsl_vector *g) {
    double value;
    fdf_trampoline(x, params, &value, g);
}

static struct cgslmin_state *state_new(cgslmin_method m, size_t n, cgslmin_f f, cgslmin_fdf fdf, void *context) {
    struct cgslmin_state *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->scratch = malloc((n ? n : 1) * sizeof(double));
    if (!s->scratch) { free(s); return NULL; }
    s->method = m; s->n = n; s->f = f; s->fdf = fdf; s->context = context;
    return s;
}

static gsl_vector *vector_from(const double *x, size_t n) {
    gsl_vector *v = gsl_vector_alloc(n);
    if (v) for (size_t i = 0; i < n; i++) gsl_vector_set(v, i, x[i]);
    return v;
}

cgslmin_state *cgslmin_nelder_mead_new(size_t n, const double *x0, const double *step,
                                       cgslmin_f f, void *context, int *status) {
    *status = GSL_ENOMEM;
    if (n == 0 || !f) { *status = GSL_EINVAL; return NULL; }
    struct cgslmin_state *s = state_new(CGSLMIN_NELDER_MEAD, n, f, NULL, context);
    if (!s) return NULL;
    s->fn.n = n; s->fn.f = f_trampoline; s->fn.params = s;
    gsl_vector *x = vector_from(x0, n), *ss = vector_from(step, n);
    s->nm = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, n);
    if (x && ss && s->nm) *status = gsl_multimin_fminimizer_set(s->nm, &s->fn, x, ss);
    if (x) gsl_vector_free(x);
    if (ss) gsl_vector_free(ss);
    if (*status != GSL_SUCCESS) { cgslmin_free(s); return NULL; }
    return s;
}

cgslmin_state *cgslmin_bfgs2_new(size_t n, const double *x0, double step, double tol,
                                 cgslmin_f f, cgslmin_fdf fdf, void *context, int *status) {
    *status = GSL_ENOMEM;
    if (n == 0 || !f || !fdf) { *status = GSL_EINVAL; return NULL; }
    struct cgslmin_state *s = state_new(CGSLMIN_BFGS2, n, f, fdf, context);
    if (!s) return NULL;
    s->fnfdf.n = n; s->fnfdf.f = f_trampoline; s->fnfdf.df = df_trampoline; s->fnfdf.fdf = fdf_trampoline; s->fnfdf.params = s;
    gsl_vector *x = vector_from(x0, n);
    s->grad = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, n);
    if (x && s->grad) *status = gsl_multimin_fdfminimizer_set(s->grad, &s->fnfdf, x, step, tol);
    if (x) gsl_vector_free(x);
    if (*status != GSL_SUCCESS) { cgslmin_free(s); return NULL; }
    return s;
}

int cgslmin_iterate(cgslmin_state *s) {
    return s->method == CGSLMIN_NELDER_MEAD ? gsl_multimin_fminimizer_iterate(s->nm)
                                            : gsl_multimin_fdfminimizer_iterate(s->grad);
}

void cgslmin_x(const cgslmin_state *s, double *x) {
    const gsl_vector *v = s->method == CGSLMIN_NELDER_MEAD ? gsl_multimin_fminimizer_x(s->nm)
                                                           : gsl_multimin_fdfminimizer_x(s->grad);
    for (size_t i = 0; i < s->n; i++) x[i] = gsl_vector_get(v, i);
}

double cgslmin_value(const cgslmin_state *s) {
    return s->method == CGSLMIN_NELDER_MEAD ? gsl_multimin_fminimizer_minimum(s->nm)
                                            : gsl_multimin_fdfminimizer_minimum(s->grad);
}

double cgslmin_size(const cgslmin_state *s) {
    if (s->method == CGSLMIN_NELDER_MEAD) return gsl_multimin_fminimizer_size(s->nm);
    const gsl_vector *g = gsl_multimin_fdfminimizer_gradient(s->grad);
    double sum = 0;
    for (size_t i = 0; i < s->n; i++) { double v = gsl_vector_get(g, i); sum += v * v; }
    return sqrt(sum);
}

cgslmin_method cgslmin_method_of(const cgslmin_state *s) { return s->method; }

void cgslmin_free(cgslmin_state *s) {
    if (!s) return;
    if (s->nm) gsl_multimin_fminimizer_free(s->nm);
    if (s->grad) gsl_multimin_fdfminimizer_free(s->grad);
    free(s->scratch);
    free(s);
}

const char *cgslmin_strerror(int status) { return gsl_strerror(status); }

void cgslmin_disable_abort(void) { gsl_set_error_handler_off(); }
