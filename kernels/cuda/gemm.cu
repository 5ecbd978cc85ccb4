// Tessera quantized layer kernel: out = requant(folded_bias + x · wᵀ), int8 in, int32
// accumulate, int8 out. The requantization is src/quant/requant.rs, integer for integer.
//
// Layouts: x is rows × kw 32-bit words (each word packs 4 int8 features, little-endian; the
// feature count is padded with zeros to a multiple of 4), w is n × kw words likewise (one row
// per output feature), out is rows × out_stride bytes. Integer arithmetic only: the result is
// exact whatever the order of the sums, and no partial sum overflows within the input limits.

#define BM 64   // output rows per block
#define BN 64   // output features per block
#define BKW 16  // 32-bit words of K per step (64 int8 features)
#define THREADS 256

#define I32_MIN (-2147483647 - 1)
#define I32_MAX 2147483647

__device__ __forceinline__ int srdhm(int a, int b) {
    if (a == I32_MIN && b == I32_MIN) {
        return I32_MAX;
    }
    long long ab = (long long)a * (long long)b;
    long long nudge = ab >= 0 ? (1ll << 30) : (1ll - (1ll << 30));
    return (int)((ab + nudge) / (1ll << 31));
}

__device__ __forceinline__ int rounding_divide_by_pot(int x, int exponent) {
    long long mask = (1ll << exponent) - 1ll;
    long long remainder = (long long)x & mask;
    long long threshold = (mask >> 1) + (x < 0 ? 1ll : 0ll);
    return (int)((long long)(x >> exponent) + (remainder > threshold ? 1ll : 0ll));
}

__device__ __forceinline__ int multiply_by_quantized_multiplier(int x, int multiplier, int shift) {
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    long long s = (long long)x << left;
    if (s < (long long)I32_MIN) {
        s = (long long)I32_MIN;
    }
    if (s > (long long)I32_MAX) {
        s = (long long)I32_MAX;
    }
    return rounding_divide_by_pot(srdhm((int)s, multiplier), right);
}

__device__ __forceinline__ signed char requantize(int acc, int multiplier, int shift,
                                                  int zero_point, int relu) {
    long long v = (long long)multiply_by_quantized_multiplier(acc, multiplier, shift) +
                  (long long)zero_point;
    long long lo = relu ? (long long)zero_point : -128ll;
    if (lo < -128ll) {
        lo = -128ll;
    }
    if (v < lo) {
        v = lo;
    }
    if (v > 127ll) {
        v = 127ll;
    }
    return (signed char)v;
}

// 4-way int8 dot product with accumulate; __dp4a on sm_61 and later.
__device__ __forceinline__ int dot4(int a, int b, int c) { return __dp4a(a, b, c); }

// Grid: (ceil(n / BN), ceil(rows / BM)); block: THREADS threads. Each thread computes a 4 × 4
// patch of the block's BM × BN outputs, rows ty + 16·i and features tx + 16·j.
extern "C" __global__ void __launch_bounds__(THREADS)
    gemm_i8_requant(const int* __restrict__ x, const int* __restrict__ w,
                    const int* __restrict__ folded_bias, const int* __restrict__ multiplier,
                    const int* __restrict__ shift, signed char* __restrict__ out, int rows, int n,
                    int kw, int out_stride, int zero_point, int relu) {
    __shared__ int as[BKW][BM + 1];
    __shared__ int bs[BKW][BN + 1];
    const int tid = threadIdx.x;
    const int tx = tid % 16;
    const int ty = tid / 16;
    const int m0 = blockIdx.y * BM;
    const int n0 = blockIdx.x * BN;

    int acc[4][4];
    for (int i = 0; i < 4; ++i) {
        for (int j = 0; j < 4; ++j) {
            acc[i][j] = 0;
        }
    }

    for (int k0 = 0; k0 < kw; k0 += BKW) {
        for (int i = 0; i < (BM * BKW) / THREADS; ++i) {
            int idx = tid + i * THREADS;
            int r = idx / BKW;
            int c = idx % BKW;
            int gk = k0 + c;
            int gm = m0 + r;
            int gn = n0 + r;
            as[c][r] = (gm < rows && gk < kw) ? x[(long long)gm * kw + gk] : 0;
            bs[c][r] = (gn < n && gk < kw) ? w[(long long)gn * kw + gk] : 0;
        }
        __syncthreads();
        for (int c = 0; c < BKW; ++c) {
            int a[4];
            int b[4];
            for (int i = 0; i < 4; ++i) {
                a[i] = as[c][ty + 16 * i];
                b[i] = bs[c][tx + 16 * i];
            }
            for (int i = 0; i < 4; ++i) {
                for (int j = 0; j < 4; ++j) {
                    acc[i][j] = dot4(a[i], b[j], acc[i][j]);
                }
            }
        }
        __syncthreads();
    }

    for (int i = 0; i < 4; ++i) {
        int m = m0 + ty + 16 * i;
        if (m >= rows) {
            continue;
        }
        for (int j = 0; j < 4; ++j) {
            int f = n0 + tx + 16 * j;
            if (f >= n) {
                continue;
            }
            out[(long long)m * out_stride + f] =
                requantize(acc[i][j] + folded_bias[f], multiplier[f], shift[f], zero_point, relu);
        }
    }
}
