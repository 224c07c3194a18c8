// Emulation tests: GEMM (both paths, all transposes, batching) and convolution (three passes,
// groups, stride, padding, dilation, chunked batches).
#pragma once
#include <string>

inline void test_gemm() {
    struct S { int M, N, K; };
    // the last three take split-K (2 splits of 512 / 2 of 752 / 2 of 512): few tiles, K >= 1024
    const S shapes[] = {{1, 1, 1}, {5, 7, 3}, {64, 64, 16}, {65, 33, 70}, {17, 130, 9}, {16, 144, 1024}, {20, 70, 1500}, {8, 8, 1024}};
    for (int tf32 = 0; tf32 < 2; ++tf32)
        for (const S& s : shapes)
            for (int t = 0; t < 4; ++t) {
                const bool ta = t & 1, tb = t & 2;
                if (tf32 && s.M * s.N * s.K > 70000) continue;  // the shuffle-based mma is slow here
                Vec A = randn((size_t)s.M * s.K), B = randn((size_t)s.K * s.N), C = randn((size_t)s.M * s.N);
                Vec want = C;
                const float alpha = 1.5f, beta = (t == 3) ? 0.0f : -0.5f;
                ref_gemm(ta, tb, s.M, s.N, s.K, alpha, A.data(), B.data(), beta, want.data(), tf32);
                if (beta == 0.0f) std::fill(C.begin(), C.end(), NAN);  // beta == 0 must not read C
                plan_gemm(tf32, ta, tb, s.M, s.N, s.K, alpha, A.data(), ta ? s.M : s.K, 0, 1, B.data(),
                          tb ? s.K : s.N, 0, 1, beta, C.data(), s.N, 0, 1);
                char name[96];
                std::snprintf(name, sizeof name, "%s %dx%dx%d ta=%d tb=%d", tf32 ? "gemm_tf32" : "gemm", s.M, s.N, s.K, ta, tb);
                // float sums over K >= 1024 terms drift ~sqrt(K) ulps from the double reference
                const float tol = (tf32 || s.K >= 1024) ? 1e-4f : 1e-5f;
                check(name, C, want, tol, tol);
            }
    // batched with a shared A (aMod = 1) and per-batch B and C
    const int M = 9, N = 11, K = 13, batch = 3;
    Vec A = randn(M * K), B = randn((size_t)batch * K * N), C((size_t)batch * M * N), want(C.size());
    for (int b = 0; b < batch; ++b) ref_gemm(false, false, M, N, K, 1, A.data(), B.data() + b * K * N, 0, want.data() + b * M * N);
    plan_gemm(false, false, false, M, N, K, 1, A.data(), K, 0, 1, B.data(), N, K * N, batch, 0, C.data(), N, M * N, batch);
    check("gemm batched aMod=1", C, want, 1e-5f, 1e-5f);
    // batched and split: 3 tiles, K = 2048 -> 4 splits of 512, accumulating into C (beta = 1)
    const int K2 = 2048;
    Vec A2 = randn(M * K2), B2 = randn((size_t)batch * K2 * N), C2 = randn((size_t)batch * M * N), want2 = C2;
    for (int b = 0; b < batch; ++b)
        ref_gemm(false, false, M, N, K2, 1, A2.data(), B2.data() + b * K2 * N, 1, want2.data() + b * M * N);
    plan_gemm(false, false, false, M, N, K2, 1, A2.data(), K2, 0, 1, B2.data(), N, K2 * N, batch, 1, C2.data(), N, M * N, batch);
    check("gemm batched split-K beta=1", C2, want2, 1e-4f, 1e-4f);
}

inline void test_conv() {
    //                 N  C  H  W  O KH KW sH sW pH pW dH dW G
    const ConvP cases[] = {{2, 3, 6, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1},
                           {3, 4, 7, 7, 6, 3, 2, 2, 1, 1, 0, 1, 2, 2},
                           {2, 4, 5, 5, 4, 1, 1, 1, 1, 0, 0, 1, 1, 4},
                           {1, 2, 9, 8, 3, 5, 3, 3, 2, 2, 1, 1, 1, 1},
                           {4, 2, 4, 4, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1}};
    for (int tf32 = 0; tf32 < 2; ++tf32)
        for (const ConvP& p : cases) {
            const int OH = p.OH(), OW = p.OW();
            Vec x = randn((size_t)p.N * p.C * p.H * p.W), w = randn((size_t)p.O * (p.C / p.G) * p.KH * p.KW);
            Vec bias = randn(p.O), gy = randn((size_t)p.N * p.O * OH * OW);
            if (tf32) {  // the reference sees the same TF32-rounded operands
                for (auto& v : x) v = ref_tf32(v);
                for (auto& v : w) v = ref_tf32(v);
                for (auto& v : gy) v = ref_tf32(v);
            }
            char tag[96];
            std::snprintf(tag, sizeof tag, "%s N%d C%d %dx%d O%d k%dx%d s%d,%d p%d,%d d%d,%d g%d", tf32 ? "conv_tf32" : "conv",
                          p.N, p.C, p.H, p.W, p.O, p.KH, p.KW, p.sH, p.sW, p.pH, p.pW, p.dH, p.dW, p.G);
            // a small budget forces several chunks for the batched cases
            const long long budget = (p.N > 2) ? 1 : (1LL << 24);
            Vec y(gy.size()), yr(gy.size());
            ref_conv_forward(p, x, w, &bias, yr);
            plan_conv(ConvPass::Forward, p, x.data(), w.data(), bias.data(), y.data(), budget, tf32);
            check(std::string(tag) + " forward", y, yr, 1e-4f, 1e-4f);
            Vec gx(x.size()), gxr(x.size());
            ref_conv_backward_data(p, gy, w, gxr);
            plan_conv(ConvPass::BackwardData, p, gy.data(), w.data(), nullptr, gx.data(), budget, tf32);
            check(std::string(tag) + " backward-data", gx, gxr, 1e-4f, 1e-4f);
            Vec gw(w.size(), NAN), gwr(w.size()), gb(p.O, NAN), gbr(p.O);
            ref_conv_backward_weight(p, x, gy, gwr, &gbr);
            plan_conv(ConvPass::BackwardWeight, p, x.data(), gy.data(), gb.data(), gw.data(), budget, tf32);
            check(std::string(tag) + " backward-weight", gw, gwr, 1e-4f, 1e-4f);
            check(std::string(tag) + " backward-bias", gb, gbr, 1e-4f, 1e-4f);
        }
}
