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

// Robust variational refinement of a flow (u, v) on a w x h grid (DISFlow.refineRobust): the increment
// (du, dv, zero on entry) minimising delta*Psi(E_I) + gamma*Psi(E_G) + alpha*Psi(|grad(u+du)|^2 + |grad(v+dv)|^2),
// Psi(s^2) = sqrt(s^2 + eps^2). Brightness constancy E_I and gradient constancy E_G are linearised by the
// derivative planes Ix, Iy, Iz, Ixx, Ixy, Iyy, Ixz, Iyz (consecutive w x h planes in d), each normalised by
// its squared gradient plus zeta^2. `fixed_point` iterations freeze the penalties' weights, each solved by
// `sweeps` red-black successive over-relaxation passes with relaxation omega. Returns 0 when memory runs out
// (du, dv stay zero).
int mavin_flow_refine(float *du, float *dv, const float *u, const float *v, const float *d, int w, int h,
                      float delta, float gamma, float alpha, int fixed_point, int sweeps, float omega);
#endif