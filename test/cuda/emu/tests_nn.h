// Emulation tests: elementwise, masks, ReLU, reductions, pooling, BatchNorm, cross-entropy, optimizers.
#pragma once
#include <string>

#define L1(k, n, ...) EMU_LAUNCH(k, grid1d(n), dim3(SEAM_THREADS), __VA_ARGS__)

inline void test_elementwise() {
    for (int n : {1, 1000, 300000}) {  // 300000 > 4096 * 256 / 4: grid-stride loops wrap
        Vec a = randn(n), b = randn(n), out(n), want(n);
        const std::string sz = " n=" + std::to_string(n);
        L1(add_f32, n, a.data(), b.data(), out.data(), n);
        for (int i = 0; i < n; ++i) want[i] = a[i] + b[i];
        check("add" + sz, out, want, 0, 0);
        L1(mul_f32, n, a.data(), b.data(), out.data(), n);
        for (int i = 0; i < n; ++i) want[i] = a[i] * b[i];
        check("mul" + sz, out, want, 0, 0);
        L1(scale_f32, n, a.data(), 0.3f, out.data(), n);
        for (int i = 0; i < n; ++i) want[i] = a[i] * 0.3f;
        check("scale" + sz, out, want, 0, 0);
        out = b, want = b;
        L1(axpy_f32, n, -2.0f, a.data(), out.data(), n);
        for (int i = 0; i < n; ++i) want[i] += -2.0f * a[i];
        check("axpy" + sz, out, want, 1e-6f, 1e-6f);
        L1(add_scalar_f32, n, out.data(), 0.25f, n);
        for (int i = 0; i < n; ++i) want[i] += 0.25f;
        check("add_scalar" + sz, out, want, 1e-6f, 1e-6f);
        L1(fill_f32, n, out.data(), n, 7.0f);
        check("fill" + sz, out, Vec(n, 7.0f), 0, 0);
    }
    const int rows = 37, cols = 19;
    Vec y = randn(rows * cols), bias = randn(cols), want = y;
    for (int i = 0; i < rows * cols; ++i) want[i] += bias[i % cols];
    L1(add_row_bias_f32, rows * cols, y.data(), bias.data(), rows, cols);
    check("add_row_bias", y, want, 1e-6f, 1e-6f);
}

inline void test_masks_relu() {
    const int n = 5000;
    Vec w = randn(n), m = randn(n), g = randn(n, -3, 3), out(n), want(n);
    L1(masked_weight_f32, n, w.data(), m.data(), out.data(), n);
    for (int i = 0; i < n; ++i) want[i] = w[i] * (m[i] > 0 ? 1.0f : 0.0f);
    check("masked_weight", out, want, 0, 0);
    L1(mask_grad_f32, n, g.data(), w.data(), out.data(), n);
    for (int i = 0; i < n; ++i) want[i] = std::min(1.0f, std::max(-1.0f, g[i] * w[i]));
    check("mask_grad", out, want, 0, 0);
    L1(relu_f32, n, m.data(), out.data(), n);
    for (int i = 0; i < n; ++i) want[i] = m[i] > 0 ? m[i] : 0;
    check("relu", out, want, 0, 0);
    Vec gx(n);
    L1(relu_backward_f32, n, out.data(), g.data(), gx.data(), n);
    for (int i = 0; i < n; ++i) want[i] = out[i] > 0 ? g[i] : 0;
    check("relu_backward", gx, want, 0, 0);
}

inline void test_reductions() {
    for (int n : {1, 777, 2000000}) {
        Vec x = randn(n);
        double s = 0, cnt = 0;
        for (float v : x) s += v, cnt += v > 0;
        const float got[2] = {(float)plan_reduce(false, x.data(), n), (float)plan_reduce(true, x.data(), n)};
        const float want[2] = {(float)s, (float)cnt};
        check("sum/countPositive n=" + std::to_string(n), got, want, 2, 1e-4f, 1e-6f);
    }
    for (auto rc : {std::pair<int, int>{1, 1}, {33, 70}, {300, 9}}) {
        const int rows = rc.first, cols = rc.second;
        Vec g = randn((size_t)rows * cols), out(cols), want(cols, 0);
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < cols; ++c) want[c] += g[r * cols + c];
        L1(sum_rows_f32, cols, g.data(), out.data(), rows, cols);
        check("sum_rows " + std::to_string(rows) + "x" + std::to_string(cols), out, want, 1e-5f, 1e-5f);
        Vec rs(rows, 1.0f), rsw(rows);
        for (int r = 0; r < rows; ++r) {
            double s = 0;
            for (int c = 0; c < cols; ++c) s += g[r * cols + c];
            rsw[r] = 1.0f + (float)(s * 0.5);
        }
        EMU_LAUNCH(row_sum_f32, grid_warp_rows(rows), dim3(SEAM_THREADS), g.data(), rs.data(), rows, cols, 0.5f, 1);
        check("row_sum (accumulate) " + std::to_string(rows) + "x" + std::to_string(cols), rs, rsw, 1e-5f, 1e-5f);
        std::vector<int> am(rows), amw(rows);
        for (int r = 0; r < rows; ++r) amw[r] = (int)(std::max_element(g.begin() + r * cols, g.begin() + (r + 1) * cols) - (g.begin() + r * cols));
        L1(argmax_rows_f32, rows, g.data(), am.data(), rows, cols);
        check_int("argmax " + std::to_string(rows) + "x" + std::to_string(cols), am, amw);
    }
}

inline void test_pooling() {
    //                 N  C  H  W KH KW sH sW pH pW dH dW ceil cip
    const PoolP cases[] = {{2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1, 0, 1},
                           {1, 2, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0},
                           {2, 2, 6, 7, 3, 2, 1, 2, 1, 1, 1, 1, 1, 1},
                           {1, 3, 9, 9, 3, 3, 2, 2, 1, 1, 2, 2, 0, 1}};
    for (const PoolP& p : cases) {
        const int in = p.N * p.C * p.H * p.W, out = p.N * p.C * p.OH() * p.OW();
        const SeamPoolGeom g = pool_geom(p);
        char tag[80];
        std::snprintf(tag, sizeof tag, "%dx%d k%dx%d s%d,%d p%d,%d d%d,%d ceil%d cip%d", p.H, p.W, p.KH, p.KW, p.sH, p.sW,
                      p.pH, p.pW, p.dH, p.dW, p.ceil, p.cip);
        Vec x = randn(in), gy = randn(out), y(out), yr(out), gx(in), gxr(in, 0.0f);
        std::vector<int> am(out), amr(out);
        ref_max_pool(p, x, yr, amr);
        L1(max_pool2d_forward_f32, out, x.data(), y.data(), am.data(), g);
        check(std::string("max_pool forward ") + tag, y, yr, 0, 0);
        check_int(std::string("max_pool argmax ") + tag, am, amr);
        ref_max_pool_backward(p, gy, amr, gxr);
        L1(max_pool2d_backward_f32, in, gy.data(), am.data(), gx.data(), g);
        check(std::string("max_pool backward ") + tag, gx, gxr, 1e-6f, 1e-6f);
        if (p.dH != 1 || p.dW != 1) continue;  // average pooling has no dilation
        ref_avg_pool(p, x, yr, nullptr, nullptr);
        L1(avg_pool2d_forward_f32, out, x.data(), y.data(), g, p.cip);
        check(std::string("avg_pool forward ") + tag, y, yr, 1e-6f, 1e-5f);
        std::fill(gxr.begin(), gxr.end(), 0.0f);
        ref_avg_pool(p, x, yr, &gy, &gxr);
        L1(avg_pool2d_backward_f32, in, gy.data(), gx.data(), g, p.cip);
        check(std::string("avg_pool backward ") + tag, gx, gxr, 1e-6f, 1e-5f);
    }
    const int nc = 10, hw = 49;
    Vec x = randn(nc * hw), y(nc), yr(nc), gy = randn(nc), gx(nc * hw), gxr(nc * hw);
    for (int i = 0; i < nc; ++i) {
        double s = 0;
        for (int j = 0; j < hw; ++j) s += x[i * hw + j], gxr[i * hw + j] = gy[i] / hw;
        yr[i] = (float)(s / hw);
    }
    EMU_LAUNCH(row_sum_f32, grid_warp_rows(nc), dim3(SEAM_THREADS), x.data(), y.data(), nc, hw, 1.0f / hw, 0);
    check("global_avg_pool forward", y, yr, 1e-6f, 1e-5f);
    L1(global_avg_pool_backward_f32, nc * hw, gy.data(), gx.data(), nc, hw);
    check("global_avg_pool backward", gx, gxr, 1e-7f, 1e-6f);
}

inline void test_batchnorm() {
    for (int training = 0; training < 2; ++training) {
        const int N = 3, C = 5, HW = 37, n = N * C * HW;
        Vec x = randn(n, -2, 3), ga = randn(C), be = randn(C), gy = randn(n);
        Vec rm = randn(C), rv = randn(C, 0.5f, 2.0f), rm2 = rm, rv2 = rv;
        Vec y(n), yr(n), sm(C), si(C), smr(C), sir(C);
        const std::string t = training ? " (training)" : " (eval)";
        ref_bn_forward(x, ga, be, rm2, rv2, yr, smr, sir, N, C, HW, training, 0.1f, 1e-5f);
        if (training)
            EMU_LAUNCH(batch_norm2d_train_forward_f32, dim3(C), dim3(SEAM_THREADS), x.data(), ga.data(), be.data(), rm.data(),
                       rv.data(), y.data(), sm.data(), si.data(), N, C, HW, 0.1f, 1e-5f);
        else
            L1(batch_norm2d_eval_forward_f32, n, x.data(), ga.data(), be.data(), rm.data(), rv.data(), y.data(), sm.data(),
               si.data(), N, C, HW, 1e-5f);
        check("batch_norm forward" + t, y, yr, 1e-5f, 1e-5f);
        check("batch_norm saveMean" + t, sm, smr, 1e-6f, 1e-5f);
        check("batch_norm saveInvstd" + t, si, sir, 1e-6f, 1e-5f);
        check("batch_norm runningMean" + t, rm, rm2, 1e-6f, 1e-5f);
        check("batch_norm runningVar" + t, rv, rv2, 1e-6f, 1e-5f);
        Vec gx(n), gxr(n), gg(C), gb(C), ggr(C), gbr(C);
        ref_bn_backward(x, gy, ga, sm, si, gxr, ggr, gbr, N, C, HW, training);
        EMU_LAUNCH(batch_norm2d_backward_f32, dim3(C), dim3(SEAM_THREADS), x.data(), gy.data(), ga.data(), sm.data(), si.data(),
                   gx.data(), gg.data(), gb.data(), N, C, HW, training);
        check("batch_norm backward gx" + t, gx, gxr, 1e-5f, 1e-4f);
        check("batch_norm backward ggamma" + t, gg, ggr, 1e-5f, 1e-5f);
        check("batch_norm backward gbeta" + t, gb, gbr, 1e-5f, 1e-5f);
        if (!training) {  // nn_ops.rs: eval without parameter gradients takes the elementwise kernel
            Vec gx2(n, NAN);
            L1(batch_norm2d_eval_backward_f32, n, gy.data(), ga.data(), si.data(), gx2.data(), C, HW, (long long)n);
            check("batch_norm eval backward gx (elementwise)" + t, gx2, gxr, 1e-5f, 1e-4f);
        }
    }
}

inline void test_cross_entropy() {
    for (auto rc : {std::pair<int, int>{1, 1}, {13, 10}, {5, 100}}) {
        const int rows = rc.first, cls = rc.second;
        Vec x = randn((size_t)rows * cls, -5, 5), probs(x.size()), pr(x.size()), loss(rows);
        std::vector<int> lab(rows);
        for (auto& l : lab) l = randint(0, cls - 1);
        const float want = (float)ref_cross_entropy(x, lab, pr, rows, cls);
        int bad = 0;
        EMU_LAUNCH(cross_entropy_forward_f32, grid_warp_rows(rows), dim3(SEAM_THREADS), x.data(), lab.data(), probs.data(),
                   loss.data(), &bad, rows, cls);
        const float got = (float)(plan_reduce(false, loss.data(), rows) / rows);
        const std::string tag = " " + std::to_string(rows) + "x" + std::to_string(cls);
        check("cross_entropy probs" + tag, probs, pr, 1e-6f, 1e-5f);
        check("cross_entropy loss" + tag, &got, &want, 1, 1e-5f, 1e-5f);
        Vec gx(x.size()), gxr(x.size());
        for (int i = 0; i < rows * cls; ++i) gxr[i] = (pr[i] - (lab[i / cls] == i % cls ? 1.0f : 0.0f)) * 0.5f;
        L1(cross_entropy_backward_f32, rows * cls, probs.data(), lab.data(), gx.data(), rows, cls, 0.5f);
        check("cross_entropy backward" + tag, gx, gxr, 1e-6f, 1e-5f);
        const float badFlag = (float)bad, zero = 0.0f;
        check("cross_entropy valid labels flag" + tag, &badFlag, &zero, 1, 0, 0);
    }
    Vec x = randn(6), probs(6), loss(2);
    std::vector<int> lab = {1, 7};  // 7 is out of range for 3 classes
    int bad = 0;
    EMU_LAUNCH(cross_entropy_forward_f32, dim3(1), dim3(SEAM_THREADS), x.data(), lab.data(), probs.data(), loss.data(), &bad, 2, 3);
    const float flag = (float)bad, one = 1.0f;
    check("cross_entropy bad label flagged", &flag, &one, 1, 0, 0);
}

inline void test_optim() {
    const int n = 3000;
    for (float wd : {0.0f, 0.01f}) {
        Vec p = randn(n), m = randn(n, -0.1f, 0.1f), v = randn(n, 0.0f, 0.01f), pr = p, mr = m, vr = v;
        for (int step = 1; step <= 3; ++step) {
            Vec g = randn(n);
            const double bc1 = 1 - std::pow(0.9, step), bc2s = std::sqrt(1 - std::pow(0.999, step));
            L1(adam_step_f32, n, p.data(), g.data(), m.data(), v.data(), n, 0.9f, 0.999f, 1e-8f, wd, (float)(1e-3 / bc1), (float)bc2s);
            ref_adam(pr, g, mr, vr, step, 1e-3f, 0.9f, 0.999f, 1e-8f, wd);
        }
        const std::string t = " wd=" + std::to_string(wd);
        check("adam p" + t, p, pr, 1e-6f, 1e-5f);
        check("adam m" + t, m, mr, 1e-6f, 1e-5f);
        check("adam v" + t, v, vr, 1e-7f, 1e-5f);
    }
    for (int cfg = 0; cfg < 3; ++cfg) {  // plain, momentum + dampening, nesterov + weight decay
        const float mom = cfg == 0 ? 0.0f : 0.9f, damp = cfg == 1 ? 0.1f : 0.0f, wd = cfg == 2 ? 5e-4f : 0.0f;
        const bool nest = cfg == 2;
        Vec p = randn(n), buf(n), pr = p, bufr(n);
        for (int step = 0; step < 3; ++step) {
            Vec g = randn(n);
            L1(sgd_step_f32, n, p.data(), g.data(), mom != 0 ? buf.data() : nullptr, n, 0.1f, mom, damp, wd, (int)nest, step == 0);
            ref_sgd(pr, g, &bufr, 0.1f, mom, damp, wd, nest, step == 0);
        }
        check("sgd p cfg" + std::to_string(cfg), p, pr, 1e-6f, 1e-5f);
        if (mom != 0) check("sgd buf cfg" + std::to_string(cfg), buf, bufr, 1e-6f, 1e-5f);
    }
}
