// Random inputs and the comparison every emulation test uses:
// |gpu - cpu| <= atol + rtol * |cpu|, printing the first mismatches by index.
#pragma once
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

inline std::mt19937& rng() {
    static std::mt19937 g(1234);
    return g;
}
inline std::vector<float> randn(size_t n, float lo = -1.0f, float hi = 1.0f) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng());
    return v;
}
inline int randint(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng()); }

inline int g_failures = 0, g_checks = 0;

inline bool check(const std::string& name, const float* got, const float* want, size_t n, float atol, float rtol) {
    ++g_checks;
    size_t bad = 0;
    double worst = 0;
    for (size_t i = 0; i < n; ++i) {
        const double d = std::fabs((double)got[i] - want[i]);
        const bool ok = d <= atol + rtol * std::fabs((double)want[i]) || (std::isnan(got[i]) && std::isnan(want[i]));
        if (!ok) {
            if (bad < 5) std::printf("  %s[%zu]: gpu %.9g cpu %.9g (|diff| %.3g)\n", name.c_str(), i, got[i], want[i], d);
            ++bad;
        }
        if (std::isfinite(d)) worst = std::max(worst, d);
    }
    if (bad) {
        ++g_failures;
        std::printf("FAIL %s: %zu of %zu elements mismatch (atol %g, rtol %g)\n", name.c_str(), bad, n, atol, rtol);
        return false;
    }
    std::printf("ok   %s (%zu elements, max |diff| %.3g)\n", name.c_str(), n, worst);
    return true;
}
inline bool check(const std::string& name, const std::vector<float>& got, const std::vector<float>& want,
                  float atol, float rtol) {
    if (got.size() != want.size()) {
        ++g_failures;
        std::printf("FAIL %s: size %zu vs %zu\n", name.c_str(), got.size(), want.size());
        return false;
    }
    return check(name, got.data(), want.data(), got.size(), atol, rtol);
}
inline bool check_int(const std::string& name, const std::vector<int>& got, const std::vector<int>& want) {
    ++g_checks;
    size_t bad = 0;
    for (size_t i = 0; i < got.size(); ++i)
        if (got[i] != want[i]) {
            if (bad < 5) std::printf("  %s[%zu]: gpu %d cpu %d\n", name.c_str(), i, got[i], want[i]);
            ++bad;
        }
    if (bad || got.size() != want.size()) {
        ++g_failures;
        std::printf("FAIL %s: %zu mismatches\n", name.c_str(), bad);
        return false;
    }
    std::printf("ok   %s (%zu elements)\n", name.c_str(), got.size());
    return true;
}
