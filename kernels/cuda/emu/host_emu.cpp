// Host emulation of the CUDA kernels: render.cu and gemm.cu compiled as plain C++ (g++
// -std=c++20 -O2 -ffp-contract=off), every thread of every block run on the CPU. It checks the
// kernels' logic (indexing, tiling, shared memory, barriers) and arithmetic against the Rust
// reference on machines without a GPU (tests/cuda_emulation.rs, scripts/check-kernels.sh). It
// does not replace the CPU-vs-GPU test: it cannot see what NVRTC and the GPU do differently.

#include <barrier>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

struct dim3 {
    unsigned int x, y, z;
};

static thread_local dim3 threadIdx;
static thread_local dim3 blockIdx;
static dim3 blockDim;
static dim3 gridDim;
static std::barrier<>* block_barrier = nullptr;
// The launch geometry here and the kernels' __shared__ arrays are process-wide, as on a device
// running one kernel at a time, so launches from concurrent callers (parallel tests) take turns.
static std::mutex launch_lock;

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(n)
// Shared memory: one instance per kernel function, used by one block at a time.
#define __shared__ static

static inline void __syncthreads() { block_barrier->arrive_and_wait(); }

static inline int __dp4a(int a, int b, int c) {
    for (int i = 0; i < 4; ++i) {
        int8_t x = (int8_t)((uint32_t)a >> (8 * i));
        int8_t y = (int8_t)((uint32_t)b >> (8 * i));
        c += (int)x * (int)y;
    }
    return c;
}

#include "../gemm.cu"
#include "../render.cu"

// Runs render_rect over a grid, thread by thread (the kernel has no barrier).
extern "C" void emu_render_rect(RenderParams p, const Material* materials, const Sphere* spheres,
                                const Plane* planes, const Triangle* triangles,
                                const BvhNode* nodes, unsigned char* out, u32 row0, u32 rows,
                                u32 s0, u32 s1, float* acc, u32 grid_x, u32 grid_y, u32 block_x,
                                u32 block_y) {
    std::lock_guard<std::mutex> launch(launch_lock);
    blockDim = {block_x, block_y, 1};
    gridDim = {grid_x, grid_y, 1};
    for (u32 by = 0; by < grid_y; ++by) {
        for (u32 bx = 0; bx < grid_x; ++bx) {
            for (u32 ty = 0; ty < block_y; ++ty) {
                for (u32 tx = 0; tx < block_x; ++tx) {
                    blockIdx = {bx, by, 0};
                    threadIdx = {tx, ty, 0};
                    render_rect(p, materials, spheres, planes, triangles, nodes, out, row0, rows, s0,
                                s1, acc);
                }
            }
        }
    }
}

// Runs gemm_i8_requant over a grid: one block at a time, each of its threads an OS thread, so
// that __syncthreads() and shared memory behave as on the device.
extern "C" void emu_gemm_i8_requant(const int* x, const int* w, const int* folded_bias,
                                    const int* multiplier, const int* shift, signed char* out,
                                    int rows, int n, int kw, int out_stride, int zero_point,
                                    int relu, unsigned int grid_x, unsigned int grid_y,
                                    unsigned int threads) {
    std::lock_guard<std::mutex> launch(launch_lock);
    blockDim = {threads, 1, 1};
    gridDim = {grid_x, grid_y, 1};
    for (unsigned int by = 0; by < grid_y; ++by) {
        for (unsigned int bx = 0; bx < grid_x; ++bx) {
            std::barrier<> bar((std::ptrdiff_t)threads);
            block_barrier = &bar;
            std::vector<std::thread> pool;
            pool.reserve(threads);
            for (unsigned int t = 0; t < threads; ++t) {
                pool.emplace_back([=] {
                    blockIdx = {bx, by, 0};
                    threadIdx = {t, 0, 0};
                    gemm_i8_requant(x, w, folded_bias, multiplier, shift, out, rows, n, kw,
                                    out_stride, zero_point, relu);
                });
            }
            for (auto& th : pool) {
                th.join();
            }
            block_barrier = nullptr;
        }
    }
}
