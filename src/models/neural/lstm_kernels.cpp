// LSTM training kernels (see lstm_kernels.h).
//
// Forward, per step t: gates[t] = (input part) + h_{t-1} W_hh^T, written into a [T, B, 4H] buffer, then
// one fused pass over the step computes the four activations (written back over the pre-activations:
// backward needs only the activated gates), c_t, tanh(c_t) and h_t, each straight into its [T, B, H]
// buffer. The input part is gates_x[t] (lstm_recurrence), a row of W_ih^T + b per id (lstm_layer on ids), or
// already in the buffer (lstm_layer on features: one matmul for all steps). Backward, per step in reverse:
// one fused pass turns (dh_t, dc_t) into dgates_t and dc_{t-1}, summing dgates per class or in all on the way
// (dW_ih for ids, the bias gradient), and one [B, 4H] x [4H, H] product gives the recurrent part of
// dh_{t-1}; dW_hh is a single [4H, T*B] x [T*B, H] matmul after the loop.
//
// Speed: the fused passes run on 16-float vectors (GCC vector extensions, compiled for AVX-512, AVX2+FMA
// and the baseline, the best the CPU runs picked at run time) with exp from a Cephes-style polynomial
// (relative error ~2e-7), so sigmoid and tanh agree with LibTorch's to float rounding. The per-step product
// runs on W_hh packed once per pass (AVX-512; BLAS elsewhere). Batch rows are independent, so a pass splits
// them into one block per thread and runs each block through all steps without synchronisation. Buffers
// come from a per-thread pool, so steady-state training allocates no fresh pages.
#include "models/neural/lstm_kernels.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "antiphon/core/error.h"

namespace antiphon::neural {
namespace {

// ---------------------------------------------------------------------------------------------------------
// Elementwise gate math, generic over a scalar (float, double) or a float vector.

// The helpers below pass vectors by const reference and are always inlined into the ISA-specific callers,
// so the psabi note about vector returns without AVX (an ABI that is never used here) does not apply. GCC
// reports it at the end of the file, hence no pop.
#pragma GCC diagnostic ignored "-Wpsabi"

constexpr int64_t kLanes = 16;
using VecF = float __attribute__((vector_size(kLanes * sizeof(float))));
using VecI = std::int32_t __attribute__((vector_size(kLanes * sizeof(std::int32_t))));

// 2^n for integral-valued n in [-126, 127]. (__builtin_bit_cast rather than std::bit_cast: the ISA clones
// below cannot inline a library function compiled for the baseline, and a call per vector is slow.)
[[gnu::always_inline]] inline VecF pow2(const VecF& n) {
  return __builtin_bit_cast(VecF, (__builtin_convertvector(n, VecI) + 127) << 23);
}
[[gnu::always_inline]] inline float pow2(const float& n) {
  return __builtin_bit_cast(float, (static_cast<std::int32_t>(n) + 127) << 23);
}

// e^x for float lanes: x = n ln2 + r with |r| <= ln2/2, e^r by Cephes' expf polynomial. NaN stays NaN
// (the clamps compare so that NaN falls through).
template <class V>
[[gnu::always_inline]] inline V exp_approx(const V& x_in) {
  V x = x_in > 88.0f ? V{} + 88.0f : x_in;
  x = x < -87.0f ? V{} - 87.0f : x;
  // Round x / ln2 to the nearest integer with the 1.5 * 2^23 trick (|x / ln2| < 2^22).
  const V n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const V r = (x - n * 0.693359375f) + n * 2.12194440e-4f;  // ln2 split in two for an exact first product
  V p = V{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return p * pow2(n);
}

template <class V>
[[gnu::always_inline]] inline V sigmoid(const V& x) {
  return 1.0f / (1.0f + exp_approx(-x));
}
// tanh(x) = 1 - 2 / (1 + e^{2x}): absolute error ~1e-7 near 0, exact limits +-1.
template <class V>
[[gnu::always_inline]] inline V tanh_approx(const V& x) {
  return 1.0f - 2.0f / (1.0f + exp_approx(x + x));
}
[[gnu::always_inline]] inline double sigmoid(const double& x) { return 1.0 / (1.0 + std::exp(-x)); }
[[gnu::always_inline]] inline double tanh_approx(const double& x) { return std::tanh(x); }

template <class V, class T>
[[gnu::always_inline]] inline V load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class V, class T>
[[gnu::always_inline]] inline void store(T* p, const V& v) {
  std::memcpy(p, &v, sizeof v);
}

// Pointers to one step's rows. Gates rows are [i f g o] (4H); the others are H wide. c_prev, dy are null
// when zero.
template <class T>
struct StepRows {
  T* gates = nullptr;         // forward: pre-activations in, activations out; backward: activations
  const T* c_prev = nullptr;  // c_{t-1}
  T* c = nullptr;             // c_t (forward out)
  T* tanh_c = nullptr;        // tanh(c_t) (forward out, backward in)
  T* h = nullptr;             // h_t (forward out)
  const T* dy = nullptr;      // backward: the loss gradient on h_t from the layer's output
  const T* dh = nullptr;      // backward: the gradient on h_t through step t+1 (and the last h)
  T* dc = nullptr;            // backward: dc_t through step t+1 in, dc_{t-1} out
  T* dgates = nullptr;        // backward: d(pre-activation gates) out
  // Backward: step t-1's rows of gates, tanh_c, c_prev and dy, prefetched while this step runs (they were
  // written long ago and left the cache; the matmul between two passes hides the fetch), and of dgates,
  // fetched for writing. Null at t = 0.
  const T* next_gates = nullptr;
  T* next_dgates = nullptr;
  const T* next_tanh_c = nullptr;
  const T* next_c_prev = nullptr;
  const T* next_dy = nullptr;
  // Backward: sums of the dgates rows, [classes, 4H] for this thread: row ids[r] of one-hot inputs (the
  // gradient of W_ih^T and the bias), else row 0 (the bias gradient). Null when not wanted.
  T* sums = nullptr;
  const int64_t* ids = nullptr;  // this step's [B] ids, or null
};

// Units [j, j + width(V)) of row r.
template <class V, class T>
[[gnu::always_inline]] inline void forward_units(const StepRows<T>& s, int64_t r, int64_t j, int64_t hidden) {
  T* g = s.gates + r * 4 * hidden + j;
  const int64_t k = r * hidden + j;
  const V i = sigmoid(load<V>(g));
  const V f = sigmoid(load<V>(g + hidden));
  const V z = tanh_approx(load<V>(g + 2 * hidden));
  const V o = sigmoid(load<V>(g + 3 * hidden));
  const V c = s.c_prev ? f * load<V>(s.c_prev + k) + i * z : i * z;
  const V tc = tanh_approx(c);
  store(g, i);
  store(g + hidden, f);
  store(g + 2 * hidden, z);
  store(g + 3 * hidden, o);
  store(s.c + k, c);
  store(s.tanh_c + k, tc);
  store(s.h + k, o * tc);
}

template <class V, class T>
[[gnu::always_inline]] inline void backward_units(const StepRows<T>& s, int64_t r, int64_t j, int64_t hidden) {
  const T* g = s.gates + r * 4 * hidden + j;
  T* dg = s.dgates + r * 4 * hidden + j;
  const int64_t k = r * hidden + j;
  const V i = load<V>(g), f = load<V>(g + hidden), z = load<V>(g + 2 * hidden), o = load<V>(g + 3 * hidden);
  const V tc = load<V>(s.tanh_c + k);
  const V dh = s.dy ? load<V>(s.dh + k) + load<V>(s.dy + k) : load<V>(s.dh + k);
  const V dc = load<V>(s.dc + k) + dh * o * (1 - tc * tc);
  const V c_prev = s.c_prev ? load<V>(s.c_prev + k) : V{};
  const V di = dc * z * i * (1 - i);
  const V df = dc * c_prev * f * (1 - f);
  const V dz = dc * i * (1 - z * z);
  const V d_o = dh * tc * o * (1 - o);
  store(dg, di);
  store(dg + hidden, df);
  store(dg + 2 * hidden, dz);
  store(dg + 3 * hidden, d_o);
  store(s.dc + k, dc * f);
  if (s.sums) {
    T* sum = s.sums + (s.ids ? s.ids[r] : 0) * 4 * hidden + j;
    store(sum, load<V>(sum) + di);
    store(sum + hidden, load<V>(sum + hidden) + df);
    store(sum + 2 * hidden, load<V>(sum + 2 * hidden) + dz);
    store(sum + 3 * hidden, load<V>(sum + 3 * hidden) + d_o);
  }
  if constexpr (!std::is_same_v<V, T>) {  // one cache line per vector
    if (s.next_gates) {
      const T* ng = s.next_gates + r * 4 * hidden + j;
      const T* ndg = s.next_dgates + r * 4 * hidden + j;
      for (int64_t q = 0; q < 4; ++q) {
        __builtin_prefetch(ng + q * hidden);
        __builtin_prefetch(ndg + q * hidden, 1);
      }
      __builtin_prefetch(s.next_tanh_c + k);
      if (s.next_c_prev) __builtin_prefetch(s.next_c_prev + k);
      if (s.next_dy) __builtin_prefetch(s.next_dy + k);
    }
  }
}

// The rows take their StepRows by value: a local copy that no store can alias keeps its pointers in registers
// (the memcpy stores above may alias anything that escapes).
template <class T>
[[gnu::always_inline]] inline void forward_rows_impl(const StepRows<T> s, int64_t begin, int64_t end, int64_t hidden) {
  for (int64_t r = begin; r < end; ++r) {
    int64_t j = 0;
    if constexpr (std::is_same_v<T, float>) {
      for (; j + kLanes <= hidden; j += kLanes) forward_units<VecF>(s, r, j, hidden);
    }
    for (; j < hidden; ++j) forward_units<T>(s, r, j, hidden);
  }
}

template <class T>
[[gnu::always_inline]] inline void backward_rows_impl(const StepRows<T> s, int64_t begin, int64_t end, int64_t hidden) {
  for (int64_t r = begin; r < end; ++r) {
    int64_t j = 0;
    if constexpr (std::is_same_v<T, float>) {
      for (; j + kLanes <= hidden; j += kLanes) backward_units<VecF>(s, r, j, hidden);
    }
    for (; j < hidden; ++j) backward_units<T>(s, r, j, hidden);
  }
}

// The float passes, compiled once per ISA; float_passes() picks the best the CPU runs, once.
using RowsPass = void (*)(const StepRows<float>&, int64_t, int64_t, int64_t);
struct FloatPasses {
  RowsPass forward = nullptr;
  RowsPass backward = nullptr;
};

[[gnu::target("avx512f,fma")]] void forward_rows_avx512(const StepRows<float>& s, int64_t begin, int64_t end,
                                                        int64_t hidden) {
  forward_rows_impl(s, begin, end, hidden);
}
[[gnu::target("avx512f,fma")]] void backward_rows_avx512(const StepRows<float>& s, int64_t begin, int64_t end,
                                                         int64_t hidden) {
  backward_rows_impl(s, begin, end, hidden);
}
[[gnu::target("avx2,fma")]] void forward_rows_avx2(const StepRows<float>& s, int64_t begin, int64_t end,
                                                   int64_t hidden) {
  forward_rows_impl(s, begin, end, hidden);
}
[[gnu::target("avx2,fma")]] void backward_rows_avx2(const StepRows<float>& s, int64_t begin, int64_t end,
                                                    int64_t hidden) {
  backward_rows_impl(s, begin, end, hidden);
}
void forward_rows_baseline(const StepRows<float>& s, int64_t begin, int64_t end, int64_t hidden) {
  forward_rows_impl(s, begin, end, hidden);
}
void backward_rows_baseline(const StepRows<float>& s, int64_t begin, int64_t end, int64_t hidden) {
  backward_rows_impl(s, begin, end, hidden);
}

const FloatPasses& float_passes() {
  static const FloatPasses passes = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return FloatPasses{forward_rows_avx512, backward_rows_avx512};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
      return FloatPasses{forward_rows_avx2, backward_rows_avx2};
    }
    return FloatPasses{forward_rows_baseline, backward_rows_baseline};
  }();
  return passes;
}

void forward_rows(const StepRows<float>& s, int64_t begin, int64_t end, int64_t hidden) {
  float_passes().forward(s, begin, end, hidden);
}
void backward_rows(const StepRows<float>& s, int64_t begin, int64_t end, int64_t hidden) {
  float_passes().backward(s, begin, end, hidden);
}
void forward_rows(const StepRows<double>& s, int64_t begin, int64_t end, int64_t hidden) {
  forward_rows_impl(s, begin, end, hidden);
}
void backward_rows(const StepRows<double>& s, int64_t begin, int64_t end, int64_t hidden) {
  backward_rows_impl(s, begin, end, hidden);
}

// Buffers reused across calls on one thread. A training step needs some 20 MB of buffers per layer; fresh
// ones from malloc come back from the kernel as zeroed pages, one fault per 4 KB, which costs more than the
// gate math. A buffer is handed out again only once nothing but the pool references it (no tensor, view or
// saved autograd state shares its storage), so reuse can never alias live data. The pool keeps at most
// kCapacity buffers and kMaxBytes; beyond that, buffers come and go through malloc as usual.
class BufferPool {
 public:
  torch::Tensor take(at::IntArrayRef shape, const torch::TensorOptions& options) {
    const int64_t numel = c10::multiply_integers(shape);
    for (const torch::Tensor& b : buffers_) {
      if (idle(b) && b.numel() == numel && b.scalar_type() == options.dtype().toScalarType()) return alias(b, shape);
    }
    torch::Tensor fresh = torch::empty(shape, options);
    const size_t bytes = fresh.nbytes();
    // Make room by dropping idle buffers (of other sizes), oldest first.
    for (auto it = buffers_.begin();
         it != buffers_.end() && (buffers_.size() >= kCapacity || bytes_ + bytes > kMaxBytes);) {
      if (idle(*it)) {
        bytes_ -= it->nbytes();
        it = buffers_.erase(it);
      } else {
        ++it;
      }
    }
    if (buffers_.size() < kCapacity && bytes_ + bytes <= kMaxBytes) {
      buffers_.push_back(fresh);
      bytes_ += bytes;
    }
    return alias(fresh, shape);
  }

 private:
  static constexpr size_t kCapacity = 32;
  static constexpr size_t kMaxBytes = size_t{1} << 30;
  static bool idle(const torch::Tensor& b) { return b.use_count() == 1 && b.storage().use_count() == 1; }
  // A tensor of its own on the buffer's storage, so callers never share the pool's tensor object.
  static torch::Tensor alias(const torch::Tensor& b, at::IntArrayRef shape) {
    return torch::empty({0}, b.options()).set_(b.storage(), 0, shape);
  }
  std::vector<torch::Tensor> buffers_;
  size_t bytes_ = 0;
};

torch::Tensor take_buffer(at::IntArrayRef shape, const torch::TensorOptions& options) {
  thread_local BufferPool pool;
  return pool.take(shape, options);
}

// ---------------------------------------------------------------------------------------------------------
// The per-step product with w_hh. BLAS repacks both operands on every call, and at these sizes ([B, H] x
// [H, 4H] forward, [B, 4H] x [4H, H] backward) packing w_hh costs as much as a fifth of the product; w_hh
// does not change during a pass, so it is packed once per pass into column panels and each step runs an
// AVX-512 register-tiled kernel on them. Other CPUs, dtypes and widths go through BLAS (at::addmm_out).

constexpr int64_t kTileRows = 8;   // rows of the output per tile (batch rows)
constexpr int64_t kTileCols = 32;  // columns per tile: two vectors; the panel width

// One tile: out[rows, 32] = in[rows, 32] (or 0) + a[rows, K] x panel[K, 32]; 2 * rows accumulators stay in
// registers while K runs.
template <int kRows>
[[gnu::always_inline]] inline void gemm_tile(const float* a, int64_t lda, const float* panel, int64_t depth,
                                             const float* in, float* out, int64_t ldc) {
  VecF acc[kRows][2];
  for (int m = 0; m < kRows; ++m) {
    acc[m][0] = in ? load<VecF>(in + m * ldc) : VecF{};
    acc[m][1] = in ? load<VecF>(in + m * ldc + kLanes) : VecF{};
  }
  for (int64_t k = 0; k < depth; ++k) {
    const VecF b0 = load<VecF>(panel + k * kTileCols);
    const VecF b1 = load<VecF>(panel + k * kTileCols + kLanes);
    for (int m = 0; m < kRows; ++m) {
      const float x = a[m * lda + k];
      acc[m][0] += b0 * x;
      acc[m][1] += b1 * x;
    }
  }
  for (int m = 0; m < kRows; ++m) {
    store(out + m * ldc, acc[m][0]);
    store(out + m * ldc + kLanes, acc[m][1]);
  }
}

// A tile of `rows` <= kRows rows (the kernel is unrolled for each row count).
template <int kRows>
[[gnu::always_inline]] inline void gemm_tile_rows(int64_t rows, const float* a, int64_t lda, const float* panel,
                                                  int64_t depth, const float* in, float* out, int64_t ldc) {
  if (rows == kRows) {
    gemm_tile<kRows>(a, lda, panel, depth, in, out, ldc);
  } else if constexpr (kRows > 1) {
    gemm_tile_rows<kRows - 1>(rows, a, lda, panel, depth, in, out, ldc);
  }
}

struct PackedProduct {
  const float* a;  // [rows, depth], row stride lda
  int64_t lda;
  const float* panels;  // [cols / 32][depth][32]
  int64_t rows, depth, cols;
  const float* in;  // [rows, cols] added to the product (row stride ldc), or null
  float* out;       // [rows, cols], row stride ldc
  int64_t ldc;
};

// Panel by panel (each stays in L1 while the row tiles use it).
[[gnu::target("avx512f,fma")]] void packed_product_avx512(const PackedProduct& p) {
  for (int64_t col = 0; col < p.cols; col += kTileCols) {
    const float* b = p.panels + col * p.depth;
    for (int64_t row = 0; row < p.rows; row += kTileRows) {
      const float* a = p.a + row * p.lda;
      const float* in = p.in ? p.in + row * p.ldc + col : nullptr;
      float* out = p.out + row * p.ldc + col;
      gemm_tile_rows<kTileRows>(std::min(kTileRows, p.rows - row), a, p.lda, b, p.depth, in, out, p.ldc);
    }
  }
}

bool cpu_has_avx512() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return has;
}

// out = (in or 0) + a w^T (forward: a = h [B, H], w = w_hh [4H, H]) or out = a w (backward: a = dgates
// [B, 4H]), w fixed for the life of the object.
class RecurrentProduct {
 public:
  RecurrentProduct(const torch::Tensor& w, bool transpose) : w_(transpose ? w.t() : w) {
    const int64_t depth = w_.size(0), cols = w_.size(1);
    if (w.scalar_type() != torch::kFloat || cols % kTileCols != 0 || !cpu_has_avx512()) return;
    // Panel p holds columns [32p, 32p + 32) of w_ (as a [depth, cols] matrix), row after row.
    panels_ = take_buffer({cols / kTileCols, depth, kTileCols}, w.options());
    panels_.copy_(w_.view({depth, cols / kTileCols, kTileCols}).permute({1, 0, 2}));
  }

  // Whether the packed kernel runs the product; it is then safe to run from several threads at once (on
  // different rows), where BLAS is called from the calling thread only (and threads itself).
  bool packed() const { return panels_.defined(); }

  // out[rows, cols] = (in or 0) + a[rows, depth] w, rows of a with stride lda, of in and out with ldc (in may
  // be out).
  template <class T>
  void run(const T* a, int64_t lda, const T* in, T* out, int64_t ldc, int64_t rows) const {
    const int64_t depth = w_.size(0), cols = w_.size(1);
    if constexpr (std::is_same_v<T, float>) {
      if (packed()) {
        packed_product_avx512({a, lda, panels_.data_ptr<float>(), rows, depth, cols, in, out, ldc});
        return;
      }
    }
    // BLAS on tensors over the same memory (from_blob only reads through a and in).
    const auto options = w_.options();
    torch::Tensor out_t = torch::from_blob(out, {rows, cols}, {ldc, 1}, options);
    const torch::Tensor a_t = torch::from_blob(const_cast<T*>(a), {rows, depth}, {lda, 1}, options);
    if (!in) {
      at::mm_out(out_t, a_t, w_);
    } else if (in == out) {
      at::addmm_out(out_t, out_t, a_t, w_);
    } else {
      at::addmm_out(out_t, torch::from_blob(const_cast<T*>(in), {rows, cols}, {ldc, 1}, options), a_t, w_);
    }
  }

 private:
  torch::Tensor w_;       // [depth, cols]
  torch::Tensor panels_;  // [cols / 32, depth, 32], undefined when BLAS runs the product
};

// ---------------------------------------------------------------------------------------------------------
// Threads. The batch rows of an LSTM never meet: row b of step t needs only row b of step t-1. So a pass
// splits the batch into row blocks and runs each block through all the steps on its own thread, with no
// synchronisation between steps (one fork and join per pass, where a per-step split would pay both every
// step). The blocks run on the calling thread and torch's inter-op pool (at::launch), or on the OpenMP team
// when this file is compiled with OpenMP (without it, at::parallel_for here runs serially).

struct RowBlocks {
  int64_t count = 1;  // blocks
  int64_t size = 0;   // rows per block (the last may have fewer)
};

// Up to `threads` blocks of whole tiles.
RowBlocks row_blocks(int64_t rows, int64_t threads) {
  const int64_t tiles = (rows + kTileRows - 1) / kTileRows;
  const int64_t blocks = std::clamp<int64_t>(threads, 1, tiles);
  const int64_t size = (tiles + blocks - 1) / blocks * kTileRows;
  return {(rows + size - 1) / size, size};
}

// Runs work(block, begin, end) for every block. Each participant (the caller and count - 1 pool tasks) takes
// the next block not yet taken, so the caller finishes the work alone if the pool is busy (or if the caller
// is itself a pool thread); a task that starts after all blocks are taken does nothing.
void run_row_blocks(int64_t rows, const RowBlocks& blocks, const std::function<void(int64_t, int64_t, int64_t)>& work) {
  if (blocks.count <= 1) {
    work(0, 0, rows);
    return;
  }
#ifdef _OPENMP
  // Built with OpenMP: the blocks run on the team that BLAS and LibTorch use (whose idle threads spin for a
  // while after each parallel region, and would otherwise compete with the pool threads for the cores).
  at::parallel_for(0, blocks.count, 1, [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; ++b) work(b, b * blocks.size, std::min(rows, (b + 1) * blocks.size));
  });
#else
  struct Shared {
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> done{0};
    std::mutex mutex;
    std::condition_variable finished;
    std::exception_ptr error;
  };
  const auto shared = std::make_shared<Shared>();
  const auto participate = [shared, &work, rows, blocks] {
    for (int64_t b; (b = shared->next.fetch_add(1)) < blocks.count;) {
      try {
        work(b, b * blocks.size, std::min(rows, (b + 1) * blocks.size));
      } catch (...) {
        const std::lock_guard<std::mutex> lock(shared->mutex);
        if (!shared->error) shared->error = std::current_exception();
      }
      if (shared->done.fetch_add(1) + 1 == blocks.count) {
        const std::lock_guard<std::mutex> lock(shared->mutex);
        shared->finished.notify_all();
      }
    }
  };
  for (int64_t k = 1; k < blocks.count; ++k) at::launch(participate);
  participate();
  std::unique_lock<std::mutex> lock(shared->mutex);
  shared->finished.wait(lock, [&] { return shared->done.load() == blocks.count; });
  if (shared->error) std::rethrow_exception(shared->error);
#endif
}

// ---------------------------------------------------------------------------------------------------------
// The recurrence.

template <class T>
T* ptr_or_null(const torch::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

std::string shape_of(const torch::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

// The recurrence's buffers: what the forward pass keeps for backward besides its inputs.
struct Recurrence {
  torch::Tensor gates;   // [T, B, 4H]: pre-activations while a step runs, the activated gates after it
  torch::Tensor c;       // [T, B, H] cell states
  torch::Tensor tanh_c;  // [T, B, H]
  torch::Tensor y;       // [T, B, H] hidden states (the output)
};

Recurrence take_recurrence(int64_t steps, int64_t batch, int64_t hidden, const torch::TensorOptions& options) {
  return {take_buffer({steps, batch, 4 * hidden}, options), take_buffer({steps, batch, hidden}, options),
          take_buffer({steps, batch, hidden}, options), take_buffer({steps, batch, hidden}, options)};
}

// Where step t's gate pre-activations start, before h_{t-1} W_hh^T is added.
template <class T>
struct StepInputs {
  const T* gates_x = nullptr;    // [T, B, 4H], copied in (lstm_recurrence)
  const T* table = nullptr;      // [classes, 4H]: row ids[t, b] copied in (one-hot inputs)
  const int64_t* ids = nullptr;  // [T, B]
  // Neither: the gate buffer holds them already (features, projected in one matmul).
};

// The forward loop, one row block per thread.
template <class T>
void recurrence_forward(Recurrence& r, const torch::Tensor& h0, const torch::Tensor& c0, const StepInputs<T>& in,
                        const RecurrentProduct& recurrent) {
  const int64_t steps = r.gates.size(0), batch = r.gates.size(1), hidden = r.c.size(2), width = 4 * hidden;
  T* const gates = r.gates.data_ptr<T>();
  T* const c = r.c.data_ptr<T>();
  T* const tanh_c = r.tanh_c.data_ptr<T>();
  T* const y = r.y.data_ptr<T>();
  const T* const h_init = ptr_or_null<T>(h0);
  const T* const c_init = ptr_or_null<T>(c0);
  const RowBlocks blocks = row_blocks(batch, recurrent.packed() ? at::get_num_threads() : 1);
  run_row_blocks(batch, blocks, [&](int64_t, int64_t begin, int64_t end) {
    for (int64_t t = 0; t < steps; ++t) {
      const int64_t step_gates = t * batch * width, step_state = t * batch * hidden;
      T* const g = gates + step_gates + begin * width;
      const T* start = g;
      if (in.gates_x) {
        start = in.gates_x + step_gates + begin * width;
      } else if (in.table) {
        for (int64_t b = begin; b < end; ++b) {
          std::memcpy(g + (b - begin) * width, in.table + in.ids[t * batch + b] * width, width * sizeof(T));
        }
      }
      const T* h_prev =
          t > 0 ? y + step_state - batch * hidden + begin * hidden : (h_init ? h_init + begin * hidden : nullptr);
      if (h_prev) {
        recurrent.run(h_prev, hidden, start, g, width, end - begin);
      } else if (start != g) {
        std::memcpy(g, start, (end - begin) * width * sizeof(T));
      }
      StepRows<T> s;
      s.gates = gates + step_gates;
      s.c_prev = t > 0 ? c + step_state - batch * hidden : c_init;
      s.c = c + step_state;
      s.tanh_c = tanh_c + step_state;
      s.h = y + step_state;
      forward_rows(s, begin, end, hidden);
    }
  });
}

struct RecurrenceGrads {
  torch::Tensor dgates;  // [T, B, 4H]: the loss gradient on every step's gate pre-activations
  torch::Tensor dwhh;    // [4H, H]
  torch::Tensor dh0;     // [B, H], undefined without h0
  torch::Tensor dc0;     // [B, H], undefined without c0
  torch::Tensor sums;    // [classes, 4H]: dgates summed per class (ids) or in all (row 0), when asked for
};

// Which sums of the dgates rows the backward loop collects on the way (saving a pass over dgates).
struct GateSums {
  int64_t classes = 0;           // 0: none; 1: the sum of all rows (the bias gradient)
  const int64_t* ids = nullptr;  // [T, B] class of each row, when classes > 1
};

// The backward loop, one row block per thread; grad_outputs are the gradients on (y, last h, last c), any
// of them undefined (zero).
template <class T>
RecurrenceGrads recurrence_backward(const Recurrence& r, const torch::Tensor& whh, const torch::Tensor& h0,
                                    const torch::Tensor& c0, const torch::autograd::variable_list& grad_outputs,
                                    const GateSums& want) {
  const int64_t steps = r.gates.size(0), batch = r.gates.size(1), hidden = whh.size(1), width = 4 * hidden;
  const torch::Tensor dy = grad_outputs[0].defined() ? grad_outputs[0].contiguous() : torch::Tensor();
  torch::Tensor dh = grad_outputs[1].defined() ? grad_outputs[1].contiguous().clone() : r.c.new_zeros({batch, hidden});
  torch::Tensor dc = grad_outputs[2].defined() ? grad_outputs[2].contiguous().clone() : r.c.new_zeros({batch, hidden});
  torch::Tensor dgates = take_buffer(r.gates.sizes(), r.gates.options());
  const RecurrentProduct recurrent(whh, /*transpose=*/false);
  const RowBlocks blocks = row_blocks(batch, recurrent.packed() ? at::get_num_threads() : 1);
  // One [classes, 4H] block of sums per row block, so that no two threads add into the same element.
  torch::Tensor sums = want.classes > 0 ? r.c.new_zeros({blocks.count, want.classes, width}) : torch::Tensor();

  const T* const gates = r.gates.data_ptr<T>();
  const T* const c = r.c.data_ptr<T>();
  const T* const tanh_c = r.tanh_c.data_ptr<T>();
  const T* const dy_data = ptr_or_null<T>(dy);
  const T* const c_init = ptr_or_null<T>(c0);
  T* const dgates_data = dgates.data_ptr<T>();
  T* const sums_data = ptr_or_null<T>(sums);
  T* const dh_data = dh.data_ptr<T>();
  run_row_blocks(batch, blocks, [&](int64_t block, int64_t begin, int64_t end) {
    for (int64_t t = steps - 1; t >= 0; --t) {
      const int64_t step_gates = t * batch * width, step_state = t * batch * hidden;
      StepRows<T> s;
      s.gates = const_cast<T*>(gates) + step_gates;  // read only in backward
      s.c_prev = t > 0 ? c + step_state - batch * hidden : c_init;
      s.tanh_c = const_cast<T*>(tanh_c) + step_state;
      s.dy = dy_data ? dy_data + step_state : nullptr;
      s.dh = dh_data;
      s.dc = dc.data_ptr<T>();
      s.dgates = dgates_data + step_gates;
      if (t > 0) {
        s.next_gates = s.gates - batch * width;
        s.next_dgates = s.dgates - batch * width;
        s.next_tanh_c = s.tanh_c - batch * hidden;
        s.next_c_prev = t > 1 ? s.c_prev - batch * hidden : c_init;
        s.next_dy = s.dy ? s.dy - batch * hidden : nullptr;
      }
      if (sums_data) s.sums = sums_data + block * want.classes * width;
      s.ids = want.classes > 1 ? want.ids + t * batch : nullptr;
      backward_rows(s, begin, end, hidden);
      // dh_{t-1} through the recurrence (dh now holds dh_{t-1}; the pass above has consumed dh_t).
      if (t > 0 || h0.defined()) {
        recurrent.run<T>(s.dgates + begin * width, width, nullptr, dh_data + begin * hidden, hidden, end - begin);
      }
    }
  });

  // dW_hh = sum_t dgates_t^T h_{t-1}: the steps after the first in one matmul, h0's term on its own.
  torch::Tensor dwhh;
  if (steps > 1) {
    dwhh = at::mm(dgates.narrow(0, 1, steps - 1).view({(steps - 1) * batch, width}).t(),
                  r.y.narrow(0, 0, steps - 1).view({(steps - 1) * batch, hidden}));
    if (h0.defined()) dwhh.addmm_(dgates[0].t(), h0);
  } else {
    dwhh = h0.defined() ? at::mm(dgates[0].t(), h0) : torch::zeros_like(whh);
  }
  return {dgates, dwhh, h0.defined() ? dh : torch::Tensor(), c0.defined() ? dc : torch::Tensor(),
          sums.defined() ? sums.sum(0) : torch::Tensor()};
}

RecurrenceGrads recurrence_backward(const Recurrence& r, const torch::Tensor& whh, const torch::Tensor& h0,
                                    const torch::Tensor& c0, const torch::autograd::variable_list& grad_outputs,
                                    const GateSums& want = {}) {
  RecurrenceGrads g;
  AT_DISPATCH_FLOATING_TYPES(r.gates.scalar_type(), "lstm_backward",
                             [&] { g = recurrence_backward<scalar_t>(r, whh, h0, c0, grad_outputs, want); });
  return g;
}

// The buffers go into saved_data; y, an output, goes through save_for_backward (after `inputs`) so that
// changing it in place before backward is reported.
void save_recurrence(torch::autograd::AutogradContext* ctx, const Recurrence& r,
                     torch::autograd::variable_list inputs) {
  inputs.push_back(r.y);
  ctx->save_for_backward(inputs);
  ctx->saved_data["gates"] = r.gates;
  ctx->saved_data["c"] = r.c;
  ctx->saved_data["tanh_c"] = r.tanh_c;
}

Recurrence load_recurrence(torch::autograd::AutogradContext* ctx, const torch::autograd::variable_list& saved) {
  return {ctx->saved_data["gates"].toTensor(), ctx->saved_data["c"].toTensor(), ctx->saved_data["tanh_c"].toTensor(),
          saved.back()};
}

// Outputs: y, and the last h and c as tensors of their own (nothing the caller does to them touches y or c).
torch::autograd::variable_list outputs(const Recurrence& r) {
  const int64_t last = r.y.size(0) - 1;
  return {r.y, r.y[last].clone(), r.c[last].clone()};
}

torch::Tensor contiguous_or_undefined(const c10::optional<torch::Tensor>& t) {
  return t ? t->contiguous() : torch::Tensor();
}

class LstmRecurrence : public torch::autograd::Function<LstmRecurrence> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& gates_x,
                                                const torch::Tensor& w_hh, const c10::optional<torch::Tensor>& h0,
                                                const c10::optional<torch::Tensor>& c0) {
    const torch::Tensor gx = gates_x.contiguous();
    const torch::Tensor whh = w_hh.contiguous();
    const torch::Tensor h_init = contiguous_or_undefined(h0);
    const torch::Tensor c_init = contiguous_or_undefined(c0);
    Recurrence r = take_recurrence(gx.size(0), gx.size(1), whh.size(1), gx.options());
    const RecurrentProduct recurrent(whh, /*transpose=*/true);
    AT_DISPATCH_FLOATING_TYPES(gx.scalar_type(), "lstm_recurrence", [&] {
      StepInputs<scalar_t> in;
      in.gates_x = gx.data_ptr<scalar_t>();
      recurrence_forward(r, h_init, c_init, in, recurrent);
    });
    ctx->set_materialize_grads(false);
    save_recurrence(ctx, r, {whh, h_init, c_init});
    return outputs(r);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    // The loops write into buffers with out= ops, which have no derivatives: no double backward.
    torch::NoGradGuard no_grad;
    const auto saved = ctx->get_saved_variables();
    const RecurrenceGrads g =
        recurrence_backward(load_recurrence(ctx, saved), saved[0], saved[1], saved[2], grad_outputs);
    return {g.dgates, g.dwhh, g.dh0, g.dc0};
  }
};

class LstmLayer : public torch::autograd::Function<LstmLayer> {
 public:
  // x: [T, B, I] features or [T, B] int64 ids; w_ih [4H, I].
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                                const torch::Tensor& w_ih, const torch::Tensor& b_ih,
                                                const torch::Tensor& b_hh, const torch::Tensor& w_hh,
                                                const c10::optional<torch::Tensor>& h0,
                                                const c10::optional<torch::Tensor>& c0) {
    const torch::Tensor input = x.contiguous();
    const torch::Tensor whh = w_hh.contiguous();
    const torch::Tensor h_init = contiguous_or_undefined(h0);
    const torch::Tensor c_init = contiguous_or_undefined(c0);
    const int64_t steps = input.size(0), batch = input.size(1), hidden = whh.size(1), width = 4 * hidden;
    Recurrence r = take_recurrence(steps, batch, hidden, whh.options());
    const RecurrentProduct recurrent(whh, /*transpose=*/true);
    const torch::Tensor bias = b_ih + b_hh;
    torch::Tensor table;
    if (input.scalar_type() == torch::kLong) {
      // One-hot inputs: x_t W_ih^T + b is row ids[t, b] of the table W_ih^T + b, copied in as each step starts.
      table = (w_ih.t() + bias).contiguous();  // [I, 4H]
    } else {
      // Features: the input projections of all steps in one matmul, straight into the gate buffer.
      torch::Tensor all_gates = r.gates.view({steps * batch, width});
      at::addmm_out(all_gates, bias, input.view({steps * batch, input.size(2)}), w_ih.t());
    }
    AT_DISPATCH_FLOATING_TYPES(whh.scalar_type(), "lstm_layer", [&] {
      StepInputs<scalar_t> in;
      if (table.defined()) {
        in.table = table.data_ptr<scalar_t>();
        in.ids = input.data_ptr<int64_t>();
      }
      recurrence_forward(r, h_init, c_init, in, recurrent);
    });
    ctx->set_materialize_grads(false);
    save_recurrence(ctx, r, {input, w_ih, whh, h_init, c_init});
    return outputs(r);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    torch::NoGradGuard no_grad;
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& input = saved[0];
    const torch::Tensor& w_ih = saved[1];
    const bool ids = input.scalar_type() == torch::kLong;
    // The backward loop sums the gate gradients as it writes them: per class for one-hot inputs (that is
    // dW_ih^T, and its column sums the bias gradient), in all for features (the bias gradient).
    const GateSums sums = ids ? GateSums{w_ih.size(1), input.data_ptr<int64_t>()} : GateSums{1, nullptr};
    const RecurrenceGrads g =
        recurrence_backward(load_recurrence(ctx, saved), saved[2], saved[3], saved[4], grad_outputs, sums);
    torch::Tensor dx, dw_ih, db;
    if (ids) {
      dw_ih = g.sums.t().contiguous();
      db = g.sums.sum(0);
    } else {
      const int64_t tokens = input.size(0) * input.size(1), features = input.size(2);
      const torch::Tensor dgates = g.dgates.view({tokens, g.dgates.size(2)});
      if (ctx->needs_input_grad(0)) {
        dx = take_buffer(input.sizes(), dgates.options());
        torch::Tensor dx2 = dx.view({tokens, features});
        at::mm_out(dx2, dgates, w_ih);
      }
      if (ctx->needs_input_grad(1)) dw_ih = at::mm(dgates.t(), input.view({tokens, features}));
      db = g.sums[0];
    }
    return {dx, dw_ih, db, db.clone(), g.dwhh, g.dh0, g.dc0};
  }
};

}  // namespace

namespace {

// Absent states go in as empty optionals: autograd functions take no undefined tensor arguments.
c10::optional<torch::Tensor> optional(const torch::Tensor& t) {
  return t.defined() ? c10::optional<torch::Tensor>(t) : c10::nullopt;
}

// Checks what both entry points share: w_hh [4H, H], h0 and c0 [B, H] when given, one floating dtype on the
// CPU. `fail` throws.
template <class Fail>
void check_recurrence(const torch::Tensor& w_hh, int64_t batch, const torch::Tensor& h0, const torch::Tensor& c0,
                      std::initializer_list<const torch::Tensor*> floating, Fail&& fail) {
  if (!w_hh.defined()) fail("w_hh is required");
  if (w_hh.dim() != 2 || w_hh.size(0) != 4 * w_hh.size(1) || w_hh.size(1) < 1) fail("w_hh is not [4H, H]");
  const int64_t hidden = w_hh.size(1);
  for (const torch::Tensor* state : {&h0, &c0}) {
    if (state->defined() && (state->dim() != 2 || state->size(0) != batch || state->size(1) != hidden)) {
      fail("h0 and c0 must be [B, H]");
    }
  }
  const auto dtype = w_hh.scalar_type();
  if (dtype != torch::kFloat && dtype != torch::kDouble) {
    fail(std::string("dtype ") + c10::toString(dtype) + " is not float or double");
  }
  for (const torch::Tensor* t : floating) {
    if (!t->defined()) continue;
    if (!t->device().is_cpu()) fail("tensors must be on the CPU, not " + t->device().str());
    if (t->scalar_type() != dtype) fail("tensors must share one dtype");
  }
}

}  // namespace

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> lstm_recurrence(const torch::Tensor& gates_x,
                                                                        const torch::Tensor& w_hh,
                                                                        const torch::Tensor& h0,
                                                                        const torch::Tensor& c0) {
  const auto fail = [&](const std::string& why) {
    throw ConfigError("lstm_recurrence: " + why + " (gates_x " + shape_of(gates_x) + ", w_hh " + shape_of(w_hh) +
                      ", h0 " + shape_of(h0) + ", c0 " + shape_of(c0) + ")");
  };
  if (!gates_x.defined()) fail("gates_x is required");
  if (gates_x.dim() != 3 || gates_x.size(0) < 1 || gates_x.size(1) < 1)
    fail("gates_x is not [T, B, 4H] with T, B >= 1");
  check_recurrence(w_hh, gates_x.size(1), h0, c0, {&gates_x, &w_hh, &h0, &c0}, fail);
  if (gates_x.size(2) != w_hh.size(0)) fail("gates_x is not [T, B, 4H]");
  const torch::autograd::variable_list out = LstmRecurrence::apply(gates_x, w_hh, optional(h0), optional(c0));
  return {out[0], out[1], out[2]};
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> lstm_layer(const torch::Tensor& x, const LstmLayerWeights& w,
                                                                   const torch::Tensor& h0, const torch::Tensor& c0) {
  const auto fail = [&](const std::string& why) {
    throw ConfigError("lstm_layer: " + why + " (x " + shape_of(x) + ", w_ih " + shape_of(w.w_ih) + ", w_hh " +
                      shape_of(w.w_hh) + ", b_ih " + shape_of(w.b_ih) + ", b_hh " + shape_of(w.b_hh) + ", h0 " +
                      shape_of(h0) + ", c0 " + shape_of(c0) + ")");
  };
  if (!x.defined() || !w.w_ih.defined() || !w.b_ih.defined() || !w.b_hh.defined()) {
    fail("x, w_ih, b_ih and b_hh are required");
  }
  const bool ids = x.scalar_type() == torch::kLong;
  if (x.dim() != (ids ? 2 : 3) || x.size(0) < 1 || x.size(1) < 1) {
    fail(ids ? "ids are not [T, B] with T, B >= 1" : "x is not [T, B, I] with T, B >= 1");
  }
  const torch::Tensor features = ids ? torch::Tensor() : x;
  check_recurrence(w.w_hh, x.size(1), h0, c0, {&features, &w.w_ih, &w.w_hh, &w.b_ih, &w.b_hh, &h0, &c0}, fail);
  const int64_t gates = w.w_hh.size(0);
  if (w.w_ih.dim() != 2 || w.w_ih.size(0) != gates || w.w_ih.size(1) < 1) fail("w_ih is not [4H, I]");
  if (!ids && x.size(2) != w.w_ih.size(1)) fail("x is not [T, B, I] with I = w_ih's columns");
  for (const torch::Tensor* b : {&w.b_ih, &w.b_hh}) {
    if (b->dim() != 1 || b->size(0) != gates) fail("b_ih and b_hh must be [4H]");
  }
  if (ids) {
    if (!x.device().is_cpu()) fail("tensors must be on the CPU, not " + x.device().str());
    const torch::Tensor flat = x.contiguous();
    const int64_t* id = flat.data_ptr<int64_t>();
    const int64_t classes = w.w_ih.size(1);
    for (int64_t k = 0; k < flat.numel(); ++k) {
      if (id[k] < 0 || id[k] >= classes) {
        fail("id " + std::to_string(id[k]) + " is outside 0.." + std::to_string(classes - 1));
      }
    }
  }
  const torch::autograd::variable_list out =
      LstmLayer::apply(x, w.w_ih, w.b_ih, w.b_hh, w.w_hh, optional(h0), optional(c0));
  return {out[0], out[1], out[2]};
}

}  // namespace antiphon::neural
