// Batch-1 LSTM inference without LibTorch (fast_lstm.h). A step is one fused matrix-vector product per
// layer (all four gates, input and recurrent weights together), the gate nonlinearities, and the output
// layer's product; every product streams its column panels once while kPanel accumulators stay in
// registers. For 2x128 units that is ~0.8 MB of weights per step, read from L2.
#include "models/neural/fast_lstm.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>

#include "antiphon/core/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ANTIPHON_FAST_LSTM_X86 1
#endif

namespace antiphon::neural {
namespace {

// Output rows per panel: eight 8-float AVX registers of accumulators, enough independent FMA chains to
// hide the FMA latency.
constexpr int kPanel = 64;

int blocks_for(int rows) { return (rows + kPanel - 1) / kPanel; }

// out[0, blocks * kPanel) = init + A va + B vb, with A [*, ka] and B [*, kb] packed in panels (either may be
// empty: k = 0). out may not alias va or vb.
using GemvKernel = void (*)(const float* init, const float* pa, int ka, const float* va, const float* pb, int kb,
                            const float* vb, float* out, int blocks);
// The LSTM cell on one layer's gate pre-activations [i; f; g; o] (hidden floats each): updates c and h.
using CellKernel = void (*)(const float* gates, int hidden, float* c, float* h);

struct Kernels {
  GemvKernel gemv;
  CellKernel cell;
};

// ---- portable kernels ----

void accumulate_generic(float* acc, const float* panel, int k, const float* v) {
  for (int r = 0; r < k; ++r, panel += kPanel) {
    const float x = v[r];
    for (int j = 0; j < kPanel; ++j) acc[j] += x * panel[j];
  }
}

void gemv_generic(const float* init, const float* pa, int ka, const float* va, const float* pb, int kb,
                  const float* vb, float* out, int blocks) {
  for (int b = 0; b < blocks; ++b) {
    float acc[kPanel];
    std::copy_n(init + static_cast<size_t>(b) * kPanel, kPanel, acc);
    if (ka > 0) accumulate_generic(acc, pa + static_cast<size_t>(b) * ka * kPanel, ka, va);
    if (kb > 0) accumulate_generic(acc, pb + static_cast<size_t>(b) * kb * kPanel, kb, vb);
    std::copy_n(acc, kPanel, out + static_cast<size_t>(b) * kPanel);
  }
}

float sigmoid_scalar(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// Units [from, hidden) of the cell.
void cell_scalar(const float* gates, int hidden, int from, float* c, float* h) {
  for (int j = from; j < hidden; ++j) {
    const float i = sigmoid_scalar(gates[j]);
    const float f = sigmoid_scalar(gates[hidden + j]);
    const float g = std::tanh(gates[2 * hidden + j]);
    const float o = sigmoid_scalar(gates[3 * hidden + j]);
    c[j] = f * c[j] + i * g;
    h[j] = o * std::tanh(c[j]);
  }
}

void cell_generic(const float* gates, int hidden, float* c, float* h) { cell_scalar(gates, hidden, 0, c, h); }

constexpr Kernels kGeneric{gemv_generic, cell_generic};

// ---- AVX2 + FMA kernels (compiled for that target whatever the build's flags; run only where the CPU has
// them) ----

#ifdef ANTIPHON_FAST_LSTM_X86
#define ANTIPHON_AVX2 __attribute__((target("avx2,fma")))

ANTIPHON_AVX2 inline void accumulate_avx2(__m256* acc, const float* panel, int k, const float* v) {
  for (int r = 0; r < k; ++r, panel += kPanel) {
    const __m256 x = _mm256_broadcast_ss(v + r);
#pragma GCC unroll 8
    for (int j = 0; j < kPanel / 8; ++j) acc[j] = _mm256_fmadd_ps(x, _mm256_load_ps(panel + 8 * j), acc[j]);
  }
}

ANTIPHON_AVX2 void gemv_avx2(const float* init, const float* pa, int ka, const float* va, const float* pb, int kb,
                             const float* vb, float* out, int blocks) {
  for (int b = 0; b < blocks; ++b) {
    const size_t at = static_cast<size_t>(b) * kPanel;
    __m256 acc[kPanel / 8];
#pragma GCC unroll 8
    for (int j = 0; j < kPanel / 8; ++j) acc[j] = _mm256_loadu_ps(init + at + 8 * j);
    if (ka > 0) accumulate_avx2(acc, pa + at * ka, ka, va);
    if (kb > 0) accumulate_avx2(acc, pb + at * kb, kb, vb);
#pragma GCC unroll 8
    for (int j = 0; j < kPanel / 8; ++j) _mm256_storeu_ps(out + at + 8 * j, acc[j]);
  }
}

// exp(x) for float, Cephes' expf: x = n ln2 + r with |r| <= ln2 / 2, a degree-6 polynomial for e^r, and 2^n
// built in the exponent bits. Relative error ~1 ulp over the clamped range [-87.3, 88.3] (2^n stays a
// normal number there; beyond it the sigmoid and tanh below are saturated to float precision anyway).
ANTIPHON_AVX2 inline __m256 exp_avx2(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
  const __m256 n =
      _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // r = x - n ln2, with ln2 split in two so n * ln2_hi is exact.
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), x);
  y = _mm256_add_ps(y, _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

ANTIPHON_AVX2 inline __m256 sigmoid_avx2(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

// tanh(x) = sign(x) (1 - t) / (1 + t) with t = exp(-2|x|) in (0, 1]: no overflow, absolute error ~1e-7.
ANTIPHON_AVX2 inline __m256 tanh_avx2(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 ax = _mm256_andnot_ps(sign, x);
  const __m256 t = exp_avx2(_mm256_mul_ps(ax, _mm256_set1_ps(-2.0f)));
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 r = _mm256_div_ps(_mm256_sub_ps(one, t), _mm256_add_ps(one, t));
  return _mm256_or_ps(r, _mm256_and_ps(sign, x));
}

ANTIPHON_AVX2 void cell_avx2(const float* gates, int hidden, float* c, float* h) {
  int j = 0;
  for (; j + 8 <= hidden; j += 8) {
    const __m256 i = sigmoid_avx2(_mm256_loadu_ps(gates + j));
    const __m256 f = sigmoid_avx2(_mm256_loadu_ps(gates + hidden + j));
    const __m256 g = tanh_avx2(_mm256_loadu_ps(gates + 2 * hidden + j));
    const __m256 o = sigmoid_avx2(_mm256_loadu_ps(gates + 3 * hidden + j));
    const __m256 cn = _mm256_fmadd_ps(f, _mm256_loadu_ps(c + j), _mm256_mul_ps(i, g));
    _mm256_storeu_ps(c + j, cn);
    _mm256_storeu_ps(h + j, _mm256_mul_ps(o, tanh_avx2(cn)));
  }
  cell_scalar(gates, hidden, j, c, h);  // hidden sizes that are not a multiple of 8
}

constexpr Kernels kAvx2{gemv_avx2, cell_avx2};
#undef ANTIPHON_AVX2
#endif

const Kernels& kernels_for(FastLstm::Isa isa) {
#ifdef ANTIPHON_FAST_LSTM_X86
  if (isa == FastLstm::Isa::avx2) return kAvx2;
#endif
  assert(isa == FastLstm::Isa::generic);
  return kGeneric;
}

}  // namespace

bool FastLstm::cpu_has_avx2() {
#ifdef ANTIPHON_FAST_LSTM_X86
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

FastLstm::Panels FastLstm::pack(const std::vector<float>& w, int rows, int cols, int blocks) {
  assert(w.size() == static_cast<size_t>(rows) * static_cast<size_t>(cols));
  Panels p;
  p.cols = cols;
  p.data.assign(static_cast<size_t>(blocks) * kPanel * static_cast<size_t>(cols), 0.0f);
  for (int r = 0; r < rows; ++r) {
    float* panel = p.data.data() + static_cast<size_t>(r / kPanel) * kPanel * static_cast<size_t>(cols);
    for (int k = 0; k < cols; ++k) panel[static_cast<size_t>(k) * kPanel + r % kPanel] = w[static_cast<size_t>(r) * cols + k];
  }
  return p;
}

FastLstm::FastLstm(std::vector<FastLstmLayer> layers, std::vector<float> out_w, std::vector<float> out_b, Isa isa) {
  assert(!layers.empty());
  if (isa == Isa::automatic) isa = cpu_has_avx2() ? Isa::avx2 : Isa::generic;
  if (isa == Isa::avx2 && !cpu_has_avx2()) throw ConfigError("FastLstm: isa=avx2 but this CPU lacks AVX2 or FMA");
  isa_ = isa;

  for (size_t l = 0; l < layers.size(); ++l) {
    const FastLstmLayer& in = layers[l];
    assert(in.input_size > 0 && in.hidden > 0);
    assert(l == 0 || in.input_size == layers[l - 1].hidden);
    const int rows = 4 * in.hidden;
    assert(in.bias.size() == static_cast<size_t>(rows));
    Layer layer;
    layer.input_size = in.input_size;
    layer.hidden = in.hidden;
    layer.blocks = blocks_for(rows);
    layer.w_ih = pack(in.w_ih, rows, in.input_size, layer.blocks);
    layer.w_hh = pack(in.w_hh, rows, in.hidden, layer.blocks);
    const size_t gates = static_cast<size_t>(layer.blocks) * kPanel;
    layer.bias.assign(gates, 0.0f);
    std::copy(in.bias.begin(), in.bias.end(), layer.bias.begin());
    if (l == 0) {
      // A one-hot input selects a column of w_ih: keep each column, with the bias added, as a row.
      id_gates_.assign(static_cast<size_t>(in.input_size) * gates, 0.0f);
      for (int id = 0; id < in.input_size; ++id)
        for (int r = 0; r < rows; ++r)
          id_gates_[static_cast<size_t>(id) * gates + r] = in.w_ih[static_cast<size_t>(r) * in.input_size + id] + in.bias[r];
    }
    state_size_ += static_cast<size_t>(in.hidden);
    gates_size_ = std::max(gates_size_, gates);
    layers_.push_back(std::move(layer));
  }

  const int top = layers_.back().hidden;
  num_labels_ = static_cast<int>(out_b.size());
  assert(num_labels_ > 0);
  assert(out_w.size() == static_cast<size_t>(num_labels_) * static_cast<size_t>(top));
  out_blocks_ = blocks_for(num_labels_);
  out_w_ = pack(out_w, num_labels_, top, out_blocks_);
  out_b_.assign(static_cast<size_t>(out_blocks_) * kPanel, 0.0f);
  std::copy(out_b.begin(), out_b.end(), out_b_.begin());
  gates_size_ = std::max(gates_size_, out_b_.size());
}

FastLstm::State FastLstm::start() const {
  State s;
  s.h.assign(state_size_, 0.0f);
  s.c.assign(state_size_, 0.0f);
  s.scratch.assign(gates_size_, 0.0f);
  return s;
}

void FastLstm::step_id(State& state, int input_id, std::span<float> logits) const {
  assert(input_id >= 0 && input_id < input_size());
  const size_t gates = static_cast<size_t>(layers_.front().blocks) * kPanel;
  run_layers(state, id_gates_.data() + static_cast<size_t>(input_id) * gates, nullptr, logits);
}

void FastLstm::step_dense(State& state, std::span<const float> input, std::span<float> logits) const {
  assert(input.size() == static_cast<size_t>(input_size()));
  run_layers(state, nullptr, input.data(), logits);
}

void FastLstm::run_layers(State& state, const float* layer0_init, const float* input, std::span<float> logits) const {
  assert(state.h.size() == state_size_ && state.c.size() == state_size_ && state.scratch.size() == gates_size_);
  assert(logits.size() == static_cast<size_t>(num_labels_));
  const Kernels& k = kernels_for(isa_);
  float* gates = state.scratch.data();
  float* h = state.h.data();
  float* c = state.c.data();
  const float* x = input;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    // The recurrent product reads the layer's previous h; the cell overwrites it only afterwards.
    if (l == 0 && layer0_init != nullptr)
      k.gemv(layer0_init, nullptr, 0, nullptr, layer.w_hh.data.data(), layer.hidden, h, gates, layer.blocks);
    else
      k.gemv(layer.bias.data(), layer.w_ih.data.data(), layer.input_size, x, layer.w_hh.data.data(), layer.hidden, h,
             gates, layer.blocks);
    k.cell(gates, layer.hidden, c, h);
    x = h;
    h += layer.hidden;
    c += layer.hidden;
  }
  k.gemv(out_b_.data(), out_w_.data.data(), out_w_.cols, x, nullptr, 0, nullptr, gates, out_blocks_);
  std::copy_n(gates, num_labels_, logits.begin());
}

std::span<const float> FastLstm::top_hidden(const State& state) const {
  const size_t top = static_cast<size_t>(layers_.back().hidden);
  assert(state.h.size() == state_size_);
  return {state.h.data() + state_size_ - top, top};
}

}  // namespace antiphon::neural
