// Emulation tests: SeaM's masks over blocks (a kernel or an output channel per mask element),
// against plain loops that restate native/kernels/mask_blocks.rs (float64 block sums in order, so
// the comparison is exact).
#pragma once
#include <algorithm>
#include <string>

inline void test_mask_blocks() {
    // (mask elements, block): kernels of a 3x3 conv, channels of ResNet20 / VGG16 layers, a wide grid
    for (auto nb : {std::pair<int, int>{5, 9}, {64, 144}, {16, 576}, {512, 4608}, {300000, 4}}) {
        const int nm = nb.first, block = nb.second, n = nm * block;
        const std::string tag = " " + std::to_string(nm) + "x" + std::to_string(block);
        Vec w = randn(n), m = randn(nm), g = randn(n, -0.05f, 0.05f), out(n), want(n);
        L1(masked_weight_blocks_f32, n, w.data(), m.data(), out.data(), n, block);
        for (int i = 0; i < n; ++i) want[i] = w[i] * (m[i / block] > 0 ? 1.0f : 0.0f);
        check("masked_weight_blocks" + tag, out, want, 0, 0);
        for (float bound : {1.0f, 0.05f, INFINITY}) {
            Vec gm(nm), gw(nm);
            L1(mask_grad_blocks_f32, nm, g.data(), w.data(), gm.data(), nm, block, bound);
            for (int e = 0; e < nm; ++e) {
                double s = 0;
                for (int j = e * block; j < (e + 1) * block; ++j) s += (double)g[j] * (double)w[j];
                gw[e] = std::min(bound, std::max(-bound, (float)s));
            }
            check("mask_grad_blocks" + tag + " bound " + std::to_string(bound), gm, gw, 0, 0);
        }
    }
}
