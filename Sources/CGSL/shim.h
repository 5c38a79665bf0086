#ifndef SFTRL_CGSL_SHIM_H
#define SFTRL_CGSL_SHIM_H
// GSL without its CBLAS headers (their enums clash with OpenBLAS's cblas.h: so no gsl_matrix.h or
// gsl_multimin.h here, those include gsl_cblas.h; the minimisers are wrapped in the C target CGSLMin) and without
// libgslcblas: every cblas_* symbol must bind to OpenBLAS.
#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_math.h>

// Swift 6 cannot read these C globals (not concurrency-safe): accessor functions instead.
static inline const gsl_odeiv2_step_type *sftrl_step_rk2(void) { return gsl_odeiv2_step_rk2; }
static inline const gsl_odeiv2_step_type *sftrl_step_rk4(void) { return gsl_odeiv2_step_rk4; }
static inline const gsl_odeiv2_step_type *sftrl_step_rkf45(void) { return gsl_odeiv2_step_rkf45; }
static inline const gsl_odeiv2_step_type *sftrl_step_rkck(void) { return gsl_odeiv2_step_rkck; }
static inline const gsl_odeiv2_step_type *sftrl_step_rk8pd(void) { return gsl_odeiv2_step_rk8pd; }
static inline const gsl_odeiv2_step_type *sftrl_step_rk1imp(void) { return gsl_odeiv2_step_rk1imp; }
static inline const gsl_odeiv2_step_type *sftrl_step_rk2imp(void) { return gsl_odeiv2_step_rk2imp; }
static inline const gsl_odeiv2_step_type *sftrl_step_rk4imp(void) { return gsl_odeiv2_step_rk4imp; }
static inline const gsl_odeiv2_step_type *sftrl_step_bsimp(void) { return gsl_odeiv2_step_bsimp; }
static inline const gsl_odeiv2_step_type *sftrl_step_msadams(void) { return gsl_odeiv2_step_msadams; }
static inline const gsl_odeiv2_step_type *sftrl_step_msbdf(void) { return gsl_odeiv2_step_msbdf; }


#endif
