#ifndef MAVIN_C_METRICS_SHIM_H
#define MAVIN_C_METRICS_SHIM_H
#include <stdint.h>
#include <stddef.h>

// SSIM statistics of two w x h planes with an ntaps Gaussian window, 'valid' filtering
// ((w - ntaps + 1) x (h - ntaps + 1) outputs), values centred on `shift`: writes the means of
// the SSIM map and of the contrast-structure term. Returns 0 when the window does not fit or
// memory runs out, 1 otherwise.
int mavin_ssim_valid(const float *x, const float *y, int w, int h, const float *taps, int ntaps,
                     float shift, float c1, float c2, double *ssim_mean, double *cs_mean);
#endif
