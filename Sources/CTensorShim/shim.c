#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "CTensorShim.h"

int mavin_cpu_has_avx512(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}

int mavin_cpu_has_avx2_fma(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

// CBLAS enums (values fixed by the CBLAS standard).
enum { kRowMajor = 101, kNoTrans = 111, kTrans = 112 };
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                         const float *, int, float, float *, int);
typedef char *(*corename_fn)(void);
typedef int (*getthreads_fn)(void);
typedef void (*setthreads_fn)(int);

static sgemm_fn p_sgemm;
static corename_fn p_corename;
static getthreads_fn p_getthreads;
static setthreads_fn p_setthreads;

int mavin_blas_load(const char *coretype, char *err, size_t errlen) {
    if (p_sgemm) return 0;
    // Only set the core when the user has not: their choice always wins.
    if (coretype && coretype[0] && getenv("OPENBLAS_CORETYPE") == NULL)
        setenv("OPENBLAS_CORETYPE", coretype, 0);
    const char *names[] = {"libopenblas.so.0", "libopenblas.so", "libblas.so.3", NULL};
    void *h = NULL;
    for (int i = 0; names[i] && !h; i++) h = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
        snprintf(err, errlen, "could not load OpenBLAS (%s); install libopenblas0 (apt-get install libopenblas-dev)", dlerror());
        return -1;
    }
    p_sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
    p_corename = (corename_fn)dlsym(h, "openblas_get_corename");
    p_getthreads = (getthreads_fn)dlsym(h, "openblas_get_num_threads");
    p_setthreads = (setthreads_fn)dlsym(h, "openblas_set_num_threads");
    if (!p_sgemm) {
        snprintf(err, errlen, "the loaded BLAS has no cblas_sgemm");
        return -1;
    }
    return 0;
}

const char *mavin_blas_corename(void) { return p_corename ? p_corename() : "unknown"; }
int mavin_blas_get_threads(void) { return p_getthreads ? p_getthreads() : 1; }
void mavin_blas_set_threads(int n) { if (p_setthreads) p_setthreads(n); }

void mavin_sgemm(int transA, int transB, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    p_sgemm(kRowMajor, transA ? kTrans : kNoTrans, transB ? kTrans : kNoTrans,
            m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}


// Vector maths. Each kernel's body is written branch-free and inlined into three copies: AVX-512, AVX2 with
// FMA, and baseline; the first call picks the widest the CPU has (by its features: target_clones'
// "arch=haswell" tests the CPU model, so an AMD core with the same instructions got the baseline).
#define INLINE static inline __attribute__((always_inline))
#if defined(__x86_64__)
#define MAVIN_PICK(name) \
    (mavin_cpu_has_avx512() ? name##_avx512 : (mavin_cpu_has_avx2_fma() ? name##_avx2 : name##_base))
#define MAVIN_KERNEL(name, params, args)                                                              \
    __attribute__((target("avx512f,avx512dq,avx512vl,fma"))) static void name##_avx512 params {     \
        name##_body args;                                                                             \
    }                                                                                                 \
    __attribute__((target("avx2,fma"))) static void name##_avx2 params { name##_body args; }         \
    static void name##_base params { name##_body args; }                                             \
    void name params {                                                                                \
        static void(*fn) params;                                                                      \
        if (!fn) fn = MAVIN_PICK(name);                                                               \
        fn args;                                                                                      \
    }
#else
#define MAVIN_KERNEL(name, params, args) \
    void name params { name##_body args; }
#endif

// exp as 2^k * e^r: k = round(x*log2(e)), r reduced with a two-part ln 2 (Cody-Waite),
// e^r by its degree-6 Taylor polynomial (|r| <= ln2/2, relative error < 2e-7).
INLINE float vexp(float v) {
    v = v < -87.0f ? -87.0f : (v > 88.0f ? 88.0f : v);
    float k = __builtin_rintf(v * 1.44269504088896341f);
    float r = v - k * 0.693145751953125f - k * 1.42860682030941723e-06f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int bits = ((int)k + 127) << 23;
    float scale;
    __builtin_memcpy(&scale, &bits, 4);
    return p * scale;
}

// erf by Abramowitz & Stegun 7.1.26: 1 - (a1 t + ... + a5 t^5) e^(-x^2), t = 1 / (1 + p|x|),
// absolute error < 1.5e-7 (float's own resolution near 1), sign restored.
INLINE float verf(float x) {
    float a = x < 0 ? -x : x;
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float q = 1.061405429f;
    q = q * t - 1.453152027f;
    q = q * t + 1.421413741f;
    q = q * t - 0.284496736f;
    q = q * t + 0.254829592f;
    float y = 1.0f - q * t * vexp(-a * a);
    return x < 0 ? -y : y;
}

// y[i] = exp(x[i] - shift); returns the sum. y may alias x.
INLINE float exp_shifted_sum(float *y, const float *x, int n, float shift) {
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        float e = vexp(x[i] - shift);
        y[i] = e;
        sum += e;
    }
    return sum;
}

INLINE void mavin_softmax_row_body(float *y, const float *x, int n) {
    // Start from the first element, not -inf: -ffast-math assumes finite values.
    float m = n > 0 ? x[0] : 0.0f;
    for (int i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
    float s = 1.0f / exp_shifted_sum(y, x, n, m);
    for (int i = 0; i < n; i++) y[i] *= s;
}
MAVIN_KERNEL(mavin_softmax_row, (float *y, const float *x, int n), (y, x, n))

INLINE void mavin_silu_body(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = x[i] / (1.0f + vexp(-x[i]));
}
MAVIN_KERNEL(mavin_silu, (float *y, const float *x, int n), (y, x, n))

INLINE void mavin_silu_backward_body(float *dx, const float *dy, const float *x, int n) {
    for (int i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + vexp(-x[i]));
        dx[i] += dy[i] * s * (1.0f + x[i] * (1.0f - s));
    }
}
MAVIN_KERNEL(mavin_silu_backward, (float *dx, const float *dy, const float *x, int n), (dx, dy, x, n))

INLINE void mavin_gelu_body(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + verf(x[i] * 0.70710678118654752f));
}
MAVIN_KERNEL(mavin_gelu, (float *y, const float *x, int n), (y, x, n))

INLINE void mavin_gelu_backward_body(float *dx, const float *dy, const float *x, int n) {
    for (int i = 0; i < n; i++) {
        float v = x[i];
        float cdf = 0.5f * (1.0f + verf(v * 0.70710678118654752f));
        float pdf = vexp(-0.5f * v * v) * 0.39894228040143268f;
        dx[i] += dy[i] * (cdf + v * pdf);
    }
}
MAVIN_KERNEL(mavin_gelu_backward, (float *dx, const float *dy, const float *x, int n), (dx, dy, x, n))

static __thread int in_worker;
void mavin_set_in_worker(int v) { in_worker = v; }
int mavin_in_worker(void) { return in_worker; }
