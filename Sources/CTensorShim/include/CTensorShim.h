#ifndef MAVIN_C_TENSOR_SHIM_H
#define MAVIN_C_TENSOR_SHIM_H
#include <stdint.h>
#include <stddef.h>

// CPU features (CPUID and OS support via the compiler's builtins).
int mavin_cpu_has_avx512(void);     // F, CD, BW, DQ, VL
int mavin_cpu_has_avx2_fma(void);

// OpenBLAS, loaded at run time so OPENBLAS_CORETYPE can be chosen first.
// Returns 0 on success; otherwise writes a message into err.
int mavin_blas_load(const char *coretype, char *err, size_t errlen);
const char *mavin_blas_corename(void);
int mavin_blas_get_threads(void);
void mavin_blas_set_threads(int n);
// Row-major sgemm: C = alpha * op(A) op(B) + beta * C
void mavin_sgemm(int transA, int transB, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

// Vector maths (compiled for AVX-512, AVX2 with FMA and baseline; the first call picks by the CPU's features).
// SiLU x / (1 + e^-x) and GELU (exact erf form, erf to 1.5e-7); the backward passes add into dx.
void mavin_silu(float *y, const float *x, int n);
void mavin_silu_backward(float *dx, const float *dy, const float *x, int n);
void mavin_gelu(float *y, const float *x, int n);
void mavin_gelu_backward(float *dx, const float *dy, const float *x, int n);
// In-place or out-of-place softmax of one row of n values.
void mavin_softmax_row(float *y, const float *x, int n);

// Per-thread flag: set inside our own parallel workers so BLAS calls there stay serial.
void mavin_set_in_worker(int v);
int mavin_in_worker(void);
#endif
