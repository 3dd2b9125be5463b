// oneDNN 2.6 forward-inference convolutions at EfficientNet-Lite0's shapes, NHWC f32, weights in the layout the
// primitive chooses, bias + clip(0, 6) as a post-op: what imgcls runs (scripts/kernel-libraries.sh). Threads: OMP_NUM_THREADS.
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define CHECK(x) do { dnnl_status_t s = (x); if (s != dnnl_success) { printf("error %d at %s\n", s, #x); exit(1); } } while (0)
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static void run(dnnl_engine_t eng, dnnl_stream_t st, int n, int h, int c, int m, int k, int s, int groups) {
    int p = k / 2, oh = (h + 2 * p - k) / s + 1;
    dnnl_dims_t src_d = {n, c, h, h}, dst_d = {n, m, oh, oh}, b_d = {m}, str = {s, s}, pl = {p, p}, pr = {p, p};
    dnnl_memory_desc_t src, dst, wany, bias, wuser;
    CHECK(dnnl_memory_desc_init_by_tag(&src, 4, src_d, dnnl_f32, dnnl_nhwc));
    CHECK(dnnl_memory_desc_init_by_tag(&dst, 4, dst_d, dnnl_f32, dnnl_nhwc));
    CHECK(dnnl_memory_desc_init_by_tag(&bias, 1, b_d, dnnl_f32, dnnl_a));
    if (groups == 1) {
        dnnl_dims_t w_d = {m, c, k, k};
        CHECK(dnnl_memory_desc_init_by_tag(&wany, 4, w_d, dnnl_f32, dnnl_format_tag_any));
        CHECK(dnnl_memory_desc_init_by_tag(&wuser, 4, w_d, dnnl_f32, dnnl_hwio));
    } else {
        dnnl_dims_t w_d = {groups, m / groups, c / groups, k, k};
        CHECK(dnnl_memory_desc_init_by_tag(&wany, 5, w_d, dnnl_f32, dnnl_format_tag_any));
        CHECK(dnnl_memory_desc_init_by_tag(&wuser, 5, w_d, dnnl_f32, dnnl_goihw));
    }
    dnnl_convolution_desc_t cd;
    CHECK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &src, &wany, &bias, &dst, str, pl, pr));
    dnnl_post_ops_t po; CHECK(dnnl_post_ops_create(&po)); CHECK(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_clip, 0.f, 6.f));
    dnnl_primitive_attr_t attr; CHECK(dnnl_primitive_attr_create(&attr)); CHECK(dnnl_primitive_attr_set_post_ops(attr, po));
    dnnl_primitive_desc_t pd; CHECK(dnnl_primitive_desc_create(&pd, &cd, attr, eng, NULL));
    const dnnl_memory_desc_t *wq = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_memory_t msrc, mdst, mw, mb;
    CHECK(dnnl_memory_create(&msrc, &src, eng, DNNL_MEMORY_ALLOCATE)); CHECK(dnnl_memory_create(&mdst, &dst, eng, DNNL_MEMORY_ALLOCATE));
    CHECK(dnnl_memory_create(&mw, wq, eng, DNNL_MEMORY_ALLOCATE)); CHECK(dnnl_memory_create(&mb, &bias, eng, DNNL_MEMORY_ALLOCATE));
    const char *impl; CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
    dnnl_primitive_t conv; CHECK(dnnl_primitive_create(&conv, pd));
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, msrc}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_BIAS, mb}, {DNNL_ARG_DST, mdst}};
    for (int i = 0; i < 3; i++) CHECK(dnnl_primitive_execute(conv, st, 4, args));
    CHECK(dnnl_stream_wait(st));
    int reps = 0; double t0 = now();
    while (now() - t0 < 0.5) { CHECK(dnnl_primitive_execute(conv, st, 4, args)); CHECK(dnnl_stream_wait(st)); reps++; }
    double ms = (now() - t0) / reps * 1e3;
    double flops = 2.0 * n * oh * oh * m * (c / groups) * k * k;
    printf("onednn  n=%2d %3dx%-3d c=%4d m=%4d k=%d s=%d g=%4d: %8.3f ms  %6.1f GFLOP/s  [%s]\n", n, h, h, c, m, k, s, groups, ms, flops / ms / 1e6, impl);
}
int main(int argc, char **argv) {
    dnnl_engine_t eng; CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    dnnl_stream_t st; CHECK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
    int batches[1] = {1};  // one image: imgcls runs a batch image by image, one per thread
    for (int b = 0; b < 1; b++) {
        int n = batches[b];
        run(eng, st, n, 224, 3, 32, 3, 2, 1);      // stem
        run(eng, st, n, 112, 16, 96, 1, 1, 1);     // expand 1x1
        run(eng, st, n, 112, 96, 96, 3, 2, 96);    // depthwise 3x3 s2
        run(eng, st, n, 56, 144, 144, 3, 1, 144);  // depthwise 3x3
        run(eng, st, n, 56, 144, 24, 1, 1, 1);     // project 1x1
        run(eng, st, n, 14, 480, 80, 1, 1, 1);     // project 1x1
        run(eng, st, n, 7, 320, 1280, 1, 1, 1);    // head conv 1x1
    }
    return 0;
}
