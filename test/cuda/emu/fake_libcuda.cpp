// A stand-in for libcuda.so.1 built from the emulated kernels: the CUDA driver-API entry points
// native/cuda/driver.rs resolves, implemented on the CPU. With SEAM_LIBCUDA pointing at it, the
// addon's whole CUDA path (handle registry, launchers, parameter packing, grid shapes, conv
// chunking, copies) runs without a GPU: test/cuda/stand-in.test.ts runs the GPU parity suite on it.
// Device memory is host memory whose end touches a PROT_NONE guard page, so a kernel reading or
// writing past the end of a buffer crashes the test instead of passing silently.
// Build (test/helpers/gxx.ts does it): g++ -std=c++20 -O1 -U_FORTIFY_SOURCE -shared -fPIC -include emu.h fake_libcuda.cpp -o libcuda-emu.so
#include "../../../kernels/activation.cu"
#include "../../../kernels/batchnorm.cu"
#include "../../../kernels/conv.cu"
#include "../../../kernels/elementwise.cu"
#include "../../../kernels/gemm.cu"
#include "../../../kernels/loss.cu"
#include "../../../kernels/mask.cu"
#include "../../../kernels/optim.cu"
#include "../../../kernels/pool.cu"
#include "../../../kernels/reduce.cu"

#include <sys/mman.h>
#include <unistd.h>
#include <cstring>
#include <map>
#include <string>
#include <type_traits>
#include <utility>

namespace {

using Launcher = void (*)(const char*, dim3, dim3, void**);

template <class... A, size_t... I>
void call_with(void (*k)(A...), void** params, std::index_sequence<I...>) {
    k(*static_cast<std::remove_cv_t<A>*>(params[I])...);
}

template <auto K> struct Trampoline;
template <class... A, void (*K)(A...)> struct Trampoline<K> {
    static void run(const char* name, dim3 g, dim3 b, void** params) {
        emu::launch(name, g, b, [&] { call_with(K, params, std::index_sequence_for<A...>{}); });
    }
};

#define K(name) {#name, &Trampoline<&name>::run}
const std::map<std::string, Launcher> kKernels = {
    K(gemm_f32), K(gemm_tf32_f32), K(splitk_reduce_f32), K(im2col_f32), K(col2im_f32), K(nchw_to_cnhw_f32), K(cnhw_to_nchw_f32),
    K(fill_f32), K(add_f32), K(mul_f32), K(scale_f32), K(axpy_f32), K(add_scalar_f32), K(add_row_bias_f32),
    K(relu_f32), K(relu_backward_f32), K(masked_weight_f32), K(mask_grad_f32), K(adam_step_f32), K(sgd_step_f32),
    K(batch_norm2d_train_forward_f32), K(batch_norm2d_eval_forward_f32), K(batch_norm2d_backward_f32), K(batch_norm2d_eval_backward_f32),
    K(max_pool2d_forward_f32), K(max_pool2d_backward_f32), K(avg_pool2d_forward_f32), K(avg_pool2d_backward_f32),
    K(global_avg_pool_backward_f32), K(sum_partial_f32), K(count_positive_partial_f32), K(reduce_final_f64),
    K(sum_rows_f32), K(row_sum_f32), K(argmax_rows_f32), K(cross_entropy_forward_f32), K(cross_entropy_backward_f32),
};
#undef K

struct Mapping { void* base; size_t len; };
std::map<uint64_t, Mapping> g_allocs;
int g_module_token, g_ctx_token, g_stream_token;

enum : int { OK = 0, INVALID_VALUE = 1, OUT_OF_MEMORY = 2, NOT_INITIALIZED = 3, INVALID_HANDLE = 400, NOT_FOUND = 500 };
bool g_init = false;

}  // namespace

extern "C" {
int cuInit(unsigned) { g_init = true; return OK; }
int cuDeviceGet(int* d, int ordinal) {
    if (!g_init) return NOT_INITIALIZED;
    if (ordinal != 0) return 101;  // CUDA_ERROR_INVALID_DEVICE
    *d = 0;
    return OK;
}
int cuDeviceGetName(char* name, int len, int) {
    std::snprintf(name, (size_t)len, "seam CPU emulation (test/cuda/emu/fake_libcuda.cpp)");
    return OK;
}
int cuDeviceGetAttribute(int* v, int attr, int) {
    const char* cc = std::getenv("SEAM_FAKE_CC");  // "major.minor", default 9.0
    int major = 9, minor = 0;
    if (cc) std::sscanf(cc, "%d.%d", &major, &minor);
    *v = attr == 75 ? major : attr == 76 ? minor : attr == 16 ? 4 : 0;
    return OK;
}
int cuDevicePrimaryCtxRetain(void** ctx, int) { *ctx = &g_ctx_token; return OK; }
int cuCtxSetCurrent(void*) { return OK; }
int cuStreamCreate(void** s, unsigned) { *s = &g_stream_token; return OK; }
int cuStreamSynchronize(void*) { return OK; }
int cuModuleLoadData(void** m, const void* image) {
    if (!image) return INVALID_VALUE;
    *m = &g_module_token;
    return OK;
}
int cuModuleGetFunction(void** f, void* m, const char* name) {
    if (m != &g_module_token) return INVALID_HANDLE;
    auto it = kKernels.find(name);
    if (it == kKernels.end()) return NOT_FOUND;
    *f = (void*)&it->second;
    return OK;
}
int cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned shmem,
                   void* stream, void** params, void** extra) {
    if (!f || stream != &g_stream_token || extra || shmem) return INVALID_VALUE;
    if (bx * by * bz > 1024 || gy > 65535 || gz > 65535) return 1;
    for (const auto& kv : kKernels)
        if ((const void*)&kv.second == f) {
            kv.second(kv.first.c_str(), dim3(gx, gy, gz), dim3(bx, by, bz), params);
            return OK;
        }
    return INVALID_HANDLE;
}
int cuMemAlloc_v2(uint64_t* p, size_t bytes) {
    if (bytes == 0) return INVALID_VALUE;
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), data = (bytes + page - 1) / page * page, len = data + page;
    void* base = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return OUT_OF_MEMORY;
    mprotect((char*)base + data, page, PROT_NONE);
    // the buffer ends where the guard page starts; keep 8-byte alignment for double partials
    const size_t start = (data - bytes) & ~(size_t)7;
    std::memset((char*)base + start, 0xff, data - start);  // NaN garbage, like fresh device memory might hold
    *p = (uint64_t)((char*)base + start);
    g_allocs[*p] = {base, len};
    return OK;
}
int cuMemFree_v2(uint64_t p) {
    auto it = g_allocs.find(p);
    if (it == g_allocs.end()) return INVALID_VALUE;
    munmap(it->second.base, it->second.len);
    g_allocs.erase(it);
    return OK;
}
int cuMemcpyHtoDAsync_v2(uint64_t dst, const void* src, size_t bytes, void*) { std::memcpy((void*)dst, src, bytes); return OK; }
int cuMemcpyDtoHAsync_v2(void* dst, uint64_t src, size_t bytes, void*) { std::memcpy(dst, (const void*)src, bytes); return OK; }
int cuGetErrorName(int r, const char** s) {
    static const std::map<int, const char*> names = {
        {OK, "CUDA_SUCCESS"}, {INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE"}, {OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY"},
        {NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED"}, {101, "CUDA_ERROR_INVALID_DEVICE"},
        {INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE"}, {NOT_FOUND, "CUDA_ERROR_NOT_FOUND"}};
    auto it = names.find(r);
    if (it == names.end()) return INVALID_VALUE;
    *s = it->second;
    return OK;
}
}
