// Emulates the CUDA execution model so kernels/*.cu compile as plain C++ (g++ -std=c++20
// -include emu.h) and run on the CPU. Used by test/cuda/emu.test.ts; no GPU needed.
//
// Model: blocks run one after another; inside a block every CUDA thread is a fiber (started with
// makecontext on its own stack, switched with _setjmp/_longjmp), all on one OS thread; the same
// fibers serve every block of a launch. A fiber runs until it reaches __syncthreads or a warp
// collective (__shfl_*_sync, __syncwarp), then yields. The scheduler releases a warp collective when
// all 32 lanes of that warp wait at one, and a block barrier when every thread of the block waits
// at it. Any other state (a thread that returned while others wait at a barrier, lanes split
// between a shuffle and a barrier) is a divergence bug: it is reported with the kernel name and
// the process exits with status 3. Fibers run in ascending thread order, or descending when
// emu::reverse_order is set, so a missing __syncthreads shows up as a wrong result in one order.
// __shared__ becomes `static`: per-block storage, since one block runs at a time.
// The tensor-core inline PTX is compiled out (SEAM_CUDA_MMA is never defined here).
#pragma once
// Fibers switch with _setjmp/_longjmp (no signal-mask syscall, unlike swapcontext); the
// fortified longjmp would reject jumps between fiber stacks.
#undef _FORTIFY_SOURCE
#define SEAM_EMU 1

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>
#include <csetjmp>
#include <setjmp.h>
#include <ucontext.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

inline dim3 gridDim, blockDim, blockIdx, threadIdx;

using std::max;
using std::min;
inline float fmaf(float a, float b, float c) { return std::fma(a, b, c); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
template <class T> T atomicAdd(T* p, T v) { T old = *p; *p += v; return old; }
template <class T> T atomicExch(T* p, T v) { T old = *p; *p = v; return old; }

namespace emu {

enum State { RUNNABLE, AT_BLOCK_BARRIER, AT_WARP_SYNC, DONE };

struct Fiber {
    ucontext_t ctx;  // only to start the fiber on its own stack
    jmp_buf jb;      // where it continues
    bool started = false;
    State state = RUNNABLE;
    dim3 tid;
    unsigned linear = 0;
};

struct Block {
    jmp_buf sched_jb;
    std::vector<Fiber> fibers;
    Fiber* current = nullptr;
    const std::function<void()>* body = nullptr;
    // warp exchange slots, double-buffered by the lane's collective count
    std::vector<uint64_t> slots[2];
    std::vector<unsigned> parity;
};

inline Block* g_block = nullptr;
inline bool reverse_order = false;
inline const char* g_kernel = "?";
inline std::vector<char> g_stacks;
constexpr size_t kStack = 128 * 1024;

[[noreturn]] inline void fail(const char* what) {
    std::fprintf(stderr, "emu: kernel %s, block (%u,%u,%u): %s\n", g_kernel, blockIdx.x, blockIdx.y,
                 blockIdx.z, what);
    std::exit(3);
}

inline void yield(State s) {
    Fiber* f = g_block->current;
    f->state = s;
    if (!_setjmp(f->jb)) _longjmp(g_block->sched_jb, 1);
}

// A fiber runs the kernel body once per block: blocks reuse the same fibers.
inline void fiber_entry() {
    for (;;) {
        (*g_block->body)();
        yield(DONE);
    }
}

inline void resume(Block& b, Fiber& f) {
    b.current = &f;
    threadIdx = f.tid;
    if (!_setjmp(b.sched_jb)) {
        if (!f.started) {
            f.started = true;
            setcontext(&f.ctx);
        }
        _longjmp(f.jb, 1);
    }
}

inline unsigned lane_of(const Fiber& f) { return f.linear & 31; }
inline unsigned warp_of(const Fiber& f) { return f.linear >> 5; }

// Runs one block to completion.
inline void run_block(Block& b) {
    const unsigned n = (unsigned)b.fibers.size();
    for (auto& f : b.fibers) f.state = RUNNABLE;
    const unsigned warps = (n + 31) / 32;
    for (;;) {
        for (unsigned k = 0; k < n; ++k) {
            Fiber& f = b.fibers[reverse_order ? n - 1 - k : k];
            if (f.state != RUNNABLE) continue;
            resume(b, f);
        }
        // Everyone is blocked or done: release what can be released.
        bool released = false, any_done = false, any_block = false, all_done = true;
        for (unsigned w = 0; w < warps; ++w) {
            unsigned lo = w * 32, hi = min(n, lo + 32), at_sync = 0;
            for (unsigned i = lo; i < hi; ++i) at_sync += b.fibers[i].state == AT_WARP_SYNC;
            if (at_sync == 0) continue;
            if (at_sync != hi - lo || hi - lo != 32)
                fail("warp collective not reached by all 32 lanes of the warp (divergence or partial warp)");
            for (unsigned i = lo; i < hi; ++i) b.fibers[i].state = RUNNABLE;
            released = true;
        }
        if (released) continue;
        for (auto& f : b.fibers) {
            any_done |= f.state == DONE;
            any_block |= f.state == AT_BLOCK_BARRIER;
            all_done &= f.state == DONE;
        }
        if (all_done) return;
        if (any_done && any_block) fail("__syncthreads not reached by every thread of the block (some returned)");
        for (auto& f : b.fibers) f.state = RUNNABLE;  // all at the block barrier
    }
}

// Launches body (a call of one kernel) on grid x block, as a GPU would (minus the parallelism).
inline void launch(const char* name, dim3 grid, dim3 block, const std::function<void()>& body) {
    const unsigned n = block.x * block.y * block.z;
    if (n == 0 || n > 1024 || grid.x == 0 || grid.y == 0 || grid.z == 0) {
        g_kernel = name;
        fail("invalid launch configuration");
    }
    g_kernel = name;
    gridDim = grid;
    blockDim = block;
    if (g_stacks.size() < (size_t)n * kStack) g_stacks.assign((size_t)n * kStack, 0);
    Block b;
    b.body = &body;
    b.fibers.resize(n);
    for (unsigned i = 0; i < n; ++i) {
        Fiber& f = b.fibers[i];
        f.linear = i;
        f.tid = dim3(i % block.x, (i / block.x) % block.y, i / (block.x * block.y));
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = g_stacks.data() + (size_t)i * kStack;
        f.ctx.uc_stack.ss_size = kStack;
        f.ctx.uc_link = nullptr;  // fibers never return; they stay parked after the last block
        makecontext(&f.ctx, fiber_entry, 0);
    }
    b.slots[0].assign(n, 0);
    b.slots[1].assign(n, 0);
    b.parity.assign(n, 0);
    g_block = &b;
    for (unsigned z = 0; z < grid.z; ++z)
        for (unsigned y = 0; y < grid.y; ++y)
            for (unsigned x = 0; x < grid.x; ++x) {
                blockIdx = dim3(x, y, z);
                run_block(b);
            }
    g_block = nullptr;
}

// One warp collective: deposit this lane's value, wait for the warp, read lane `src`'s value.
template <class T> T exchange(T v, int src_lane) {
    static_assert(sizeof(T) <= 8, "warp exchange of values up to 8 bytes");
    Fiber* f = g_block->current;
    const unsigned me = f->linear, p = g_block->parity[me];
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    g_block->slots[p][me] = bits;
    g_block->parity[me] ^= 1u;
    yield(AT_WARP_SYNC);
    T out;
    std::memcpy(&out, &g_block->slots[p][(me & ~31u) + (unsigned)src_lane], sizeof(T));
    return out;
}

}  // namespace emu

inline void __syncthreads() { emu::yield(emu::AT_BLOCK_BARRIER); }
inline void __syncwarp(unsigned = 0xffffffffu) { emu::exchange<int>(0, 0); }
template <class T> T __shfl_sync(unsigned, T v, int src) { return emu::exchange(v, src & 31); }
template <class T> T __shfl_down_sync(unsigned, T v, unsigned d) {
    const unsigned lane = threadIdx.x & 31;  // kernels here use 1-D blocks
    return emu::exchange(v, (int)(lane + d < 32 ? lane + d : lane));
}
template <class T> T __shfl_xor_sync(unsigned, T v, int m) {
    return emu::exchange(v, (int)((threadIdx.x & 31) ^ (unsigned)m));
}

// A kernel launch: EMU_LAUNCH(kernel, grid, block, args...)
#define EMU_LAUNCH(k, grid, block, ...) emu::launch(#k, grid, block, [&] { k(__VA_ARGS__); })
