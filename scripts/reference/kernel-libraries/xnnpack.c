// XNNPACK (Debian's 2022 snapshot) f32 NHWC convolutions at EfficientNet-Lite0's shapes, one thread (no
// threadpool), with clamp(0, 6) fused: the same shapes as bench.c times on oneDNN.
#include <xnnpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static void run(int h, int c, int m, int k, int s, int groups) {
    int p = k / 2, oh = (h + 2 * p - k) / s + 1;
    size_t gin = c / groups, gout = m / groups;
    float *w = calloc((size_t)m * k * k * gin, 4), *b = calloc(m, 4);
    float *x = calloc((size_t)h * h * c, 4), *y = calloc((size_t)oh * oh * m, 4);
    for (size_t i = 0; i < (size_t)m * k * k * gin; i++) w[i] = (float)((i * 7919) % 13) / 13 - 0.5f;
    for (size_t i = 0; i < (size_t)h * h * c; i++) x[i] = (float)((i * 104729) % 17) / 17;
    xnn_operator_t op = NULL;
    if (xnn_create_convolution2d_nhwc_f32(p, p, p, p, k, k, s, s, 1, 1, groups, gin, gout, c, m, w, b, 0, 6, 0, &op) != xnn_status_success) {
        printf("declined\n"); return;
    }
    if (xnn_setup_convolution2d_nhwc_f32(op, 1, h, h, x, y, NULL) != xnn_status_success) { printf("setup failed\n"); return; }
    for (int i = 0; i < 3; i++) xnn_run_operator(op, NULL);
    int reps = 0; double t0 = now();
    while (now() - t0 < 0.5) { xnn_run_operator(op, NULL); reps++; }
    double ms = (now() - t0) / reps * 1e3;
    double flops = 2.0 * oh * oh * m * gin * k * k;
    printf("xnnpack n= 1 %3dx%-3d c=%4d m=%4d k=%d s=%d g=%4d: %8.3f ms  %6.1f GFLOP/s (one thread)\n", h, h, c, m, k, s, groups, ms, flops / ms / 1e6);
    xnn_delete_operator(op);
}
int main(void) {
    if (xnn_initialize(NULL) != xnn_status_success) { printf("xnn_initialize failed\n"); return 1; }
    run(224, 3, 32, 3, 2, 1); run(112, 16, 96, 1, 1, 1); run(112, 96, 96, 3, 2, 96); run(56, 144, 144, 3, 1, 144);
    run(56, 144, 24, 1, 1, 1); run(14, 480, 80, 1, 1, 1); run(7, 320, 1280, 1, 1, 1);
    return 0;
}
