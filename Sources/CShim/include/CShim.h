#ifndef MAVIN_CSHIM_H
#define MAVIN_CSHIM_H
#include <stdint.h>
#include <stddef.h>

// ---- FFmpeg macros Swift cannot import ----
int mavin_averror(int posixError);
int mavin_averror_eof(void);
int64_t mavin_av_nopts_value(void);

// ---- ncurses globals/macros ----
void *mavin_stdscr(void);
int mavin_lines(void);
int mavin_cols(void);

// ---- CPU features (CPUID + OS support via the compiler's builtins) ----
int mavin_cpu_has_avx512(void);     // F, CD, BW, DQ, VL
int mavin_cpu_has_avx2_fma(void);

// ---- OpenBLAS, loaded at run time so OPENBLAS_CORETYPE can be chosen first ----
// Returns 0 on success; otherwise writes a message into err.
int mavin_blas_load(const char *coretype, char *err, size_t errlen);
const char *mavin_blas_corename(void);
int mavin_blas_get_threads(void);
void mavin_blas_set_threads(int n);
// Row-major sgemm: C = alpha * op(A) op(B) + beta * C
void mavin_sgemm(int transA, int transB, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
#endif
#ifndef MAVIN_CSHIM_CURSES
#define MAVIN_CSHIM_CURSES
// ncurses attribute macros (A_BOLD etc. are function-like in the headers).
int mavin_a_bold(void);
int mavin_a_reverse(void);
int mavin_a_dim(void);
int mavin_color_pair(int n);
void mavin_keypad_on(void);
#endif

// ---- Vector maths (compiled for AVX-512, AVX2 and baseline; chosen at load) ----
// y[i] = exp(x[i] - shift); returns the sum. y may alias x.
float mavin_exp_shifted_sum(float *y, const float *x, int n, float shift);
// In-place or out-of-place softmax of one row of n values.
void mavin_softmax_row(float *y, const float *x, int n);

// Per-thread flag: set inside our own parallel workers so BLAS calls there stay serial.
void mavin_set_in_worker(int v);
int mavin_in_worker(void);

// SSIM statistics of two w x h planes with an ntaps Gaussian window, 'valid' filtering
// ((w - ntaps + 1) x (h - ntaps + 1) outputs), values centred on `shift`: writes the means of
// the SSIM map and of the contrast-structure term. Returns 0 when the window does not fit or
// memory runs out, 1 otherwise.
int mavin_ssim_valid(const float *x, const float *y, int w, int h, const float *taps, int ntaps,
                     float shift, float c1, float c2, double *ssim_mean, double *cs_mean);

/// Returns freed heap to the system (glibc's malloc_trim); 0 where there is none.
int mavin_release_freed_memory(void);
