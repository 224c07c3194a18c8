// CPU references for the emulation check: plain loops computing what the CPU contract
// (src/native.ts NativeBinding) specifies. One function per kernel family, named after it.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

using Vec = std::vector<float>;

inline float ref_tf32(float x) {
    uint32_t u;
    std::memcpy(&u, &x, 4);
    if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0x1000u) & 0xffffe000u;
    std::memcpy(&x, &u, 4);
    return x;
}

// C = alpha*op(A)*op(B) + beta*C (beta == 0: C not read); tf32 rounds A and B first.
inline void ref_gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, const float* B,
                     float beta, float* C, bool tf32 = false) {
    for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) {
            double s = 0;
            for (int k = 0; k < K; ++k) {
                float a = ta ? A[k * M + i] : A[i * K + k], b = tb ? B[j * K + k] : B[k * N + j];
                if (tf32) a = ref_tf32(a), b = ref_tf32(b);
                s += (double)a * b;
            }
            C[i * N + j] = (float)(alpha * s + (beta != 0 ? beta * (double)C[i * N + j] : 0.0));
        }
}

// conv params as in src/native.ts: [N, C, H, W, O, KH, KW, sH, sW, pH, pW, dH, dW, groups]
struct ConvP {
    int N, C, H, W, O, KH, KW, sH, sW, pH, pW, dH, dW, G;
    int OH() const { return (H + 2 * pH - dH * (KH - 1) - 1) / sH + 1; }
    int OW() const { return (W + 2 * pW - dW * (KW - 1) - 1) / sW + 1; }
};

// Visits every (n, o, oh, ow, c, kh, kw) term of the convolution with its x and w offsets.
template <class F> void conv_terms(const ConvP& p, F f) {
    const int Cg = p.C / p.G, Og = p.O / p.G, OH = p.OH(), OW = p.OW();
    for (int n = 0; n < p.N; ++n)
        for (int o = 0; o < p.O; ++o)
            for (int oh = 0; oh < OH; ++oh)
                for (int ow = 0; ow < OW; ++ow)
                    for (int cg = 0; cg < Cg; ++cg)
                        for (int kh = 0; kh < p.KH; ++kh)
                            for (int kw = 0; kw < p.KW; ++kw) {
                                const int ih = oh * p.sH - p.pH + kh * p.dH, iw = ow * p.sW - p.pW + kw * p.dW;
                                if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
                                const int c = (o / Og) * Cg + cg;
                                f(((n * p.O + o) * OH + oh) * OW + ow, ((n * p.C + c) * p.H + ih) * p.W + iw,
                                  ((o * Cg + cg) * p.KH + kh) * p.KW + kw);
                            }
}

inline void ref_conv_forward(const ConvP& p, const Vec& x, const Vec& w, const Vec* b, Vec& y) {
    std::vector<double> acc(y.size(), 0.0);
    conv_terms(p, [&](int yi, int xi, int wi) { acc[yi] += (double)x[xi] * w[wi]; });
    const int ohw = p.OH() * p.OW();
    for (size_t i = 0; i < y.size(); ++i) y[i] = (float)(acc[i] + (b ? (*b)[(i / ohw) % p.O] : 0.0));
}
inline void ref_conv_backward_data(const ConvP& p, const Vec& gy, const Vec& w, Vec& gx) {
    std::vector<double> acc(gx.size(), 0.0);
    conv_terms(p, [&](int yi, int xi, int wi) { acc[xi] += (double)gy[yi] * w[wi]; });
    for (size_t i = 0; i < gx.size(); ++i) gx[i] = (float)acc[i];
}
inline void ref_conv_backward_weight(const ConvP& p, const Vec& x, const Vec& gy, Vec& gw, Vec* gb) {
    std::vector<double> acc(gw.size(), 0.0);
    conv_terms(p, [&](int yi, int xi, int wi) { acc[wi] += (double)gy[yi] * x[xi]; });
    for (size_t i = 0; i < gw.size(); ++i) gw[i] = (float)acc[i];
    if (gb) {
        const int ohw = p.OH() * p.OW();
        std::vector<double> s(p.O, 0.0);
        for (size_t i = 0; i < gy.size(); ++i) s[(i / ohw) % p.O] += gy[i];
        for (int o = 0; o < p.O; ++o) (*gb)[o] = (float)s[o];
    }
}

// pool params as in src/native.ts: [N, C, H, W, KH, KW, sH, sW, pH, pW, dH, dW, ceil, countIncludePad]
struct PoolP {
    int N, C, H, W, KH, KW, sH, sW, pH, pW, dH, dW, ceil, cip;
    int out(int in, int k, int s, int pad, int d) const {
        const int num = in + 2 * pad - d * (k - 1) - 1 + (ceil ? s - 1 : 0);
        int o = num / s + 1;  // num >= 0 for valid params
        if (ceil && (o - 1) * s >= in + pad) --o;
        return o;
    }
    int OH() const { return out(H, KH, sH, pH, dH); }
    int OW() const { return out(W, KW, sW, pW, dW); }
};

inline void ref_max_pool(const PoolP& p, const Vec& x, Vec& y, std::vector<int>& am) {
    const int OH = p.OH(), OW = p.OW();
    for (int nc = 0; nc < p.N * p.C; ++nc)
        for (int oh = 0; oh < OH; ++oh)
            for (int ow = 0; ow < OW; ++ow) {
                float best = -INFINITY;
                int at = -1;
                for (int kh = 0; kh < p.KH; ++kh)
                    for (int kw = 0; kw < p.KW; ++kw) {
                        const int h = oh * p.sH - p.pH + kh * p.dH, w = ow * p.sW - p.pW + kw * p.dW;
                        if (h < 0 || h >= p.H || w < 0 || w >= p.W) continue;
                        const float v = x[(nc * p.H + h) * p.W + w];
                        if (at < 0 || v > best) best = v, at = h * p.W + w;
                    }
                y[(nc * OH + oh) * OW + ow] = best;
                am[(nc * OH + oh) * OW + ow] = at;
            }
}
inline void ref_max_pool_backward(const PoolP& p, const Vec& gy, const std::vector<int>& am, Vec& gx) {
    const int OHW = p.OH() * p.OW();
    std::fill(gx.begin(), gx.end(), 0.0f);
    for (int nc = 0; nc < p.N * p.C; ++nc)
        for (int o = 0; o < OHW; ++o)
            if (am[nc * OHW + o] >= 0) gx[nc * p.H * p.W + am[nc * OHW + o]] += gy[nc * OHW + o];
}
inline int ref_avg_div(const PoolP& p, int oh, int ow) {
    int hs = oh * p.sH - p.pH, ws = ow * p.sW - p.pW;
    int he = std::min(hs + p.KH, p.H + p.pH), we = std::min(ws + p.KW, p.W + p.pW);
    const int size = (he - hs) * (we - ws);
    hs = std::max(hs, 0), ws = std::max(ws, 0), he = std::min(he, p.H), we = std::min(we, p.W);
    return p.cip ? size : (he - hs) * (we - ws);
}
// forward (gy == nullptr) or backward (accumulates gy/div into gx, which must start at zero)
inline void ref_avg_pool(const PoolP& p, const Vec& x, Vec& y, const Vec* gy, Vec* gx) {
    const int OH = p.OH(), OW = p.OW();
    for (int nc = 0; nc < p.N * p.C; ++nc)
        for (int oh = 0; oh < OH; ++oh)
            for (int ow = 0; ow < OW; ++ow) {
                const int div = ref_avg_div(p, oh, ow), o = (nc * OH + oh) * OW + ow;
                double s = 0;
                for (int h = std::max(oh * p.sH - p.pH, 0); h < std::min(oh * p.sH - p.pH + p.KH, p.H); ++h)
                    for (int w = std::max(ow * p.sW - p.pW, 0); w < std::min(ow * p.sW - p.pW + p.KW, p.W); ++w) {
                        if (gx) (*gx)[(nc * p.H + h) * p.W + w] += (*gy)[o] / (float)div;
                        else s += x[(nc * p.H + h) * p.W + w];
                    }
                if (!gx) y[o] = (float)(s / div);
            }
}

// BatchNorm2d forward (training updates running stats) and backward, x[N][C][HW].
inline void ref_bn_forward(const Vec& x, const Vec& ga, const Vec& be, Vec& rm, Vec& rv, Vec& y, Vec& sm, Vec& si,
                           int N, int C, int HW, bool training, float mom, float eps) {
    const double M = (double)N * HW;
    for (int c = 0; c < C; ++c) {
        double mean, var;
        if (training) {
            double s = 0, q = 0;
            for (int n = 0; n < N; ++n)
                for (int i = 0; i < HW; ++i) s += x[(n * C + c) * HW + i];
            mean = s / M;
            for (int n = 0; n < N; ++n)
                for (int i = 0; i < HW; ++i) q += std::pow(x[(n * C + c) * HW + i] - mean, 2);
            var = q / M;
            rm[c] = (1 - mom) * rm[c] + mom * (float)mean;
            rv[c] = (1 - mom) * rv[c] + mom * (float)(var * M / (M - 1));
        } else {
            mean = rm[c], var = rv[c];
        }
        sm[c] = (float)mean;
        si[c] = (float)(1.0 / std::sqrt(var + eps));
        for (int n = 0; n < N; ++n)
            for (int i = 0; i < HW; ++i) {
                const int o = (n * C + c) * HW + i;
                y[o] = (float)((x[o] - mean) * si[c] * ga[c] + be[c]);
            }
    }
}
inline void ref_bn_backward(const Vec& x, const Vec& gy, const Vec& ga, const Vec& sm, const Vec& si, Vec& gx,
                            Vec& gg, Vec& gb, int N, int C, int HW, bool training) {
    const double M = (double)N * HW;
    for (int c = 0; c < C; ++c) {
        double sg = 0, sgx = 0;
        for (int n = 0; n < N; ++n)
            for (int i = 0; i < HW; ++i) {
                const int o = (n * C + c) * HW + i;
                sg += gy[o], sgx += gy[o] * (x[o] - sm[c]) * si[c];
            }
        gg[c] = (float)sgx, gb[c] = (float)sg;
        for (int n = 0; n < N; ++n)
            for (int i = 0; i < HW; ++i) {
                const int o = (n * C + c) * HW + i;
                const double xhat = (x[o] - sm[c]) * si[c];
                gx[o] = (float)(training ? ga[c] * si[c] * (gy[o] - sg / M - xhat * sgx / M) : gy[o] * ga[c] * si[c]);
            }
    }
}

// Returns the mean NLL; probs receives the softmax.
inline double ref_cross_entropy(const Vec& x, const std::vector<int>& lab, Vec& probs, int rows, int cls) {
    double loss = 0;
    for (int r = 0; r < rows; ++r) {
        double mx = -INFINITY, s = 0;
        for (int c = 0; c < cls; ++c) mx = std::max(mx, (double)x[r * cls + c]);
        for (int c = 0; c < cls; ++c) s += std::exp(x[r * cls + c] - mx);
        for (int c = 0; c < cls; ++c) probs[r * cls + c] = (float)(std::exp(x[r * cls + c] - mx) / s);
        loss += std::log(s) - (x[r * cls + lab[r]] - mx);
    }
    return loss / rows;
}

// torch.optim.Adam step (step is 1-based) and torch.optim.SGD step, in place.
inline void ref_adam(Vec& p, const Vec& g, Vec& m, Vec& v, int step, float lr, float b1, float b2, float eps, float wd) {
    const double bc1 = 1 - std::pow((double)b1, step), bc2s = std::sqrt(1 - std::pow((double)b2, step));
    for (size_t i = 0; i < p.size(); ++i) {
        const double gr = g[i] + (double)wd * p[i];
        m[i] = (float)(b1 * (double)m[i] + (1 - b1) * gr);
        v[i] = (float)(b2 * (double)v[i] + (1 - b2) * gr * gr);
        p[i] = (float)(p[i] - lr / bc1 * m[i] / (std::sqrt((double)v[i]) / bc2s + eps));
    }
}
inline void ref_sgd(Vec& p, const Vec& g, Vec* buf, float lr, float mom, float damp, float wd, bool nesterov, bool first) {
    for (size_t i = 0; i < p.size(); ++i) {
        double d = g[i] + (double)wd * p[i];
        if (mom != 0) {
            const double b = first ? d : mom * (double)(*buf)[i] + (1 - damp) * d;
            (*buf)[i] = (float)b;
            d = nesterov ? d + mom * b : b;
        }
        p[i] = (float)(p[i] - lr * d);
    }
}
