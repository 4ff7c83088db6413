/* COpenBLAS: OpenBLAS's CBLAS interface and its runtime controls (thread count, kernel name). */
#ifndef ABLATE_COPENBLAS_SHIM_H
#define ABLATE_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
