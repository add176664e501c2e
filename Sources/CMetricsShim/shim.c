#include <stdlib.h>
#include "CMetricsShim.h"

/* SSIM statistics of two planes with 'valid' Gaussian filtering (every output pixel's
 * window inside the image), fused: the five moment planes (x, y, x², y², xy) are filtered
 * horizontally into scratch rows, then each output row is filtered vertically and turned
 * into SSIM and contrast-structure terms at once, so nothing of output size is stored.
 * Values are centred on `shift` first so float variances stay exact. Returns the means
 * of the SSIM map and of cs = (2σxy + C2)/(σx² + σy² + C2); 0 on allocation failure. */
__attribute__((target_clones("avx512f", "avx2", "default")))
int mavin_ssim_valid(const float *x, const float *y, int w, int h, const float *taps, int ntaps,
                     float shift, float c1, float c2, double *ssim_mean, double *cs_mean) {
    int ow = w - ntaps + 1, oh = h - ntaps + 1;
    if (ow < 1 || oh < 1) return 0;
    size_t plane = (size_t)h * ow;
    float *hb = malloc(sizeof(float) * (5 * plane + 5 * (size_t)ow + 2 * (size_t)w));
    if (!hb) return 0;
    float *hx = hb, *hy = hb + plane, *hxx = hb + 2 * plane, *hyy = hb + 3 * plane, *hxy = hb + 4 * plane;
    float *v = hb + 5 * plane;                 /* five output rows */
    float *cx = v + 5 * (size_t)ow, *cy = cx + w;  /* one centred input row each */
    for (int r = 0; r < h; r++) {
        const float *sx = x + (size_t)r * w, *sy = y + (size_t)r * w;
        for (int i = 0; i < w; i++) { cx[i] = sx[i] - shift; cy[i] = sy[i] - shift; }
        float *ax = hx + (size_t)r * ow, *ay = hy + (size_t)r * ow, *axx = hxx + (size_t)r * ow,
              *ayy = hyy + (size_t)r * ow, *axy = hxy + (size_t)r * ow;
        for (int i = 0; i < ow; i++) { ax[i] = 0; ay[i] = 0; axx[i] = 0; ayy[i] = 0; axy[i] = 0; }
        for (int t = 0; t < ntaps; t++) {
            float k = taps[t];
            const float *px = cx + t, *py = cy + t;
            for (int i = 0; i < ow; i++) {
                float a = px[i], b = py[i];
                ax[i] += k * a; ay[i] += k * b; axx[i] += k * a * a; ayy[i] += k * b * b; axy[i] += k * a * b;
            }
        }
    }
    double ssum = 0, csum = 0;
    float *ux = v, *uy = v + ow, *uxx = v + 2 * ow, *uyy = v + 3 * ow, *uxy = v + 4 * ow;
    for (int r = 0; r < oh; r++) {
        for (int i = 0; i < ow; i++) { ux[i] = 0; uy[i] = 0; uxx[i] = 0; uyy[i] = 0; uxy[i] = 0; }
        for (int t = 0; t < ntaps; t++) {
            float k = taps[t];
            size_t o = (size_t)(r + t) * ow;
            const float *ax = hx + o, *ay = hy + o, *axx = hxx + o, *ayy = hyy + o, *axy = hxy + o;
            for (int i = 0; i < ow; i++) {
                ux[i] += k * ax[i]; uy[i] += k * ay[i]; uxx[i] += k * axx[i]; uyy[i] += k * ayy[i]; uxy[i] += k * axy[i];
            }
        }
        float srow = 0, crow = 0;
        for (int i = 0; i < ow; i++) {
            float mx = ux[i] + shift, my = uy[i] + shift;
            float vx = uxx[i] - ux[i] * ux[i], vy = uyy[i] - uy[i] * uy[i], vxy = uxy[i] - ux[i] * uy[i];
            float cs = (2 * vxy + c2) / (vx + vy + c2);
            crow += cs;
            srow += (2 * mx * my + c1) / (mx * mx + my * my + c1) * cs;
        }
        ssum += srow; csum += crow;
    }
    free(hb);
    double n = (double)ow * oh;
    *ssim_mean = ssum / n; *cs_mean = csum / n;
    return 1;
}
