#ifndef SFTRL_CLAPACKE_SHIM_H
#define SFTRL_CLAPACKE_SHIM_H
#include <lapacke.h>
#endif
