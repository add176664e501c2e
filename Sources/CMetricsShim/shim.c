#include <math.h>
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

/* One fixed-point iteration's linear system: the data terms' 2 x 2 matrix and right side at every pixel, and
 * the smoothness weight of its edges to the right and below; a11 and a22 come out as the inverse of the full
 * diagonal (with the smoothness weights). */
static void flow_refine_system(const float *du, const float *dv, const float *u, const float *v,
                               const float *d, int w, int h, float delta, float gamma, float alpha,
                               float *a11, float *a12, float *a22, float *b1, float *b2, float *smooth) {
    const float zeta2 = 0.01f, eps2 = 1e-6f;
    size_t n = (size_t)w * h;
    const float *ix = d, *iy = d + n, *iz = d + 2 * n, *ixx = d + 3 * n, *ixy = d + 4 * n, *iyy = d + 5 * n,
                *ixz = d + 6 * n, *iyz = d + 7 * n;
    for (size_t i = 0; i < n; i++) {
        float norm = ix[i] * ix[i] + iy[i] * iy[i] + zeta2;
        float r = iz[i] + ix[i] * du[i] + iy[i] * dv[i];
        float wi = delta / sqrtf(r * r / norm + eps2) / norm;
        float nx = ixx[i] * ixx[i] + ixy[i] * ixy[i] + zeta2;
        float ny = iyy[i] * iyy[i] + ixy[i] * ixy[i] + zeta2;
        float rx = ixz[i] + ixx[i] * du[i] + ixy[i] * dv[i];
        float ry = iyz[i] + ixy[i] * du[i] + iyy[i] * dv[i];
        float wg = gamma / sqrtf(rx * rx / nx + ry * ry / ny + eps2);
        a11[i] = wi * ix[i] * ix[i] + wg * (ixx[i] * ixx[i] / nx + ixy[i] * ixy[i] / ny) + zeta2;
        a12[i] = wi * ix[i] * iy[i] + wg * (ixx[i] * ixy[i] / nx + ixy[i] * iyy[i] / ny);
        a22[i] = wi * iy[i] * iy[i] + wg * (ixy[i] * ixy[i] / nx + iyy[i] * iyy[i] / ny) + zeta2;
        b1[i] = -wi * iz[i] * ix[i] - wg * (ixx[i] * ixz[i] / nx + ixy[i] * iyz[i] / ny);
        b2[i] = -wi * iz[i] * iy[i] - wg * (ixy[i] * ixz[i] / nx + iyy[i] * iyz[i] / ny);
    }
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            size_t right = x + 1 < w ? i + 1 : i, down = y + 1 < h ? i + w : i;
            float ux = u[right] + du[right] - u[i] - du[i], uy = u[down] + du[down] - u[i] - du[i];
            float vx = v[right] + dv[right] - v[i] - dv[i], vy = v[down] + dv[down] - v[i] - dv[i];
            smooth[i] = alpha / sqrtf(ux * ux + uy * uy + vx * vx + vy * vy + eps2);
        }
    }
    /* The diagonal of each pixel's equations, A + sum w_j, fixed for the over-relaxation: kept inverted in a11 and
     * a22, so that a sweep multiplies instead of dividing. */
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            float weights = (x > 0 ? smooth[i - 1] : 0) + (x + 1 < w ? smooth[i] : 0) + (y > 0 ? smooth[i - w] : 0)
                            + (y + 1 < h ? smooth[i] : 0);
            a11[i] = 1 / (a11[i] + weights);
            a22[i] = 1 / (a22[i] + weights);
        }
    }
}

/* Red-black successive over-relaxation: at each pixel (A + sum w_j) d = b + sum w_j (f_j + d_j - f) over its
 * four neighbours j, solved for du, then dv with the new du (inv11, inv22: the inverted diagonals the system
 * step leaves). Pixels of one colour read only the other's. */
static void flow_refine_sor(float *du, float *dv, const float *u, const float *v, const float *inv11,
                            const float *a12, const float *inv22, const float *b1, const float *b2,
                            const float *smooth, int w, int h, int sweeps, float omega) {
    for (int sweep = 0; sweep < sweeps; sweep++) {
        for (int colour = 0; colour < 2; colour++) {
            for (int y = 0; y < h; y++) {
                for (int x = (y + colour) & 1; x < w; x += 2) {
                    size_t i = (size_t)y * w + x;
                    /* Left and above: the neighbour's weight; right and below: this pixel's. A missing neighbour
                     * (at the border) weighs 0 and stands at i, so it adds nothing without a branch. */
                    size_t jl = x > 0 ? i - 1 : i, jr = x + 1 < w ? i + 1 : i;
                    size_t ju = y > 0 ? i - w : i, jd = y + 1 < h ? i + w : i;
                    float wl = x > 0 ? smooth[jl] : 0, wr = x + 1 < w ? smooth[i] : 0;
                    float wu = y > 0 ? smooth[ju] : 0, wd = y + 1 < h ? smooth[i] : 0;
                    float ui = u[i], vi = v[i];
                    float su = wl * (u[jl] + du[jl] - ui) + wr * (u[jr] + du[jr] - ui) + wu * (u[ju] + du[ju] - ui)
                               + wd * (u[jd] + du[jd] - ui);
                    float sv = wl * (v[jl] + dv[jl] - vi) + wr * (v[jr] + dv[jr] - vi) + wu * (v[ju] + dv[ju] - vi)
                               + wd * (v[jd] + dv[jd] - vi);
                    float nu = (b1[i] + su - a12[i] * dv[i]) * inv11[i];
                    du[i] += omega * (nu - du[i]);
                    float nv = (b2[i] + sv - a12[i] * du[i]) * inv22[i];
                    dv[i] += omega * (nv - dv[i]);
                }
            }
        }
    }
}

int mavin_flow_refine(float *du, float *dv, const float *u, const float *v, const float *d, int w, int h,
                      float delta, float gamma, float alpha, int fixed_point, int sweeps, float omega) {
    size_t n = (size_t)w * h;
    float *buf = malloc(sizeof(float) * 6 * n);
    if (!buf) return 0;
    float *a11 = buf, *a12 = buf + n, *a22 = buf + 2 * n, *b1 = buf + 3 * n, *b2 = buf + 4 * n, *smooth = buf + 5 * n;
    for (int k = 0; k < fixed_point; k++) {
        flow_refine_system(du, dv, u, v, d, w, h, delta, gamma, alpha, a11, a12, a22, b1, b2, smooth);
        flow_refine_sor(du, dv, u, v, a11, a12, a22, b1, b2, smooth, w, h, sweeps, omega);
    }
    free(buf);
    return 1;
}
