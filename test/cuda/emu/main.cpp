// Emulation check of kernels/*.cu: compiled with g++ (see test/cuda/emu.test.ts), every kernel runs
// on small random shapes through the same launch plans as the addon and is compared with ref.h.
// Usage: emu [--reverse]   (--reverse runs each block's threads in descending order)
// Exit status: 0 all passed, 1 mismatches, 3 divergence found by the emulator.
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
#include "check.h"
#include "plans.h"

#include "tests_blas_conv.h"
#include "tests_nn.h"

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::string(argv[i]) == "--reverse") emu::reverse_order = true;
    std::printf("cuda-emu: thread order %s\n", emu::reverse_order ? "descending" : "ascending");
    test_gemm();
    test_conv();
    test_elementwise();
    test_masks_relu();
    test_reductions();
    test_pooling();
    test_batchnorm();
    test_cross_entropy();
    test_optim();
    std::printf("cuda-emu: %d checks, %d failed\n", g_checks, g_failures);
    return g_failures == 0 ? 0 : 1;
}
