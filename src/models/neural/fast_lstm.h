#pragma once
// Torch-free batch-1 LSTM inference for interactive generation: no autograd, buffers preallocated in the
// state, the four gates of a layer computed as one fused matrix-vector product, weights copied from the
// trained module once. Outputs equal LibTorch's forward within 1e-5.
// Layout is PyTorch's (torch::nn::LSTM): gate rows [i; f; g; o]; row-major matrices.
// The constructor repacks every matrix into column panels (kPanel output rows, contiguous over the inputs)
// so each matrix-vector product streams its weights once with register-resident accumulators; the kernels
// are AVX2+FMA where the CPU has them (checked at run time: the build targets no particular CPU), portable
// C++ otherwise.
#include <cstddef>
#include <new>
#include <span>
#include <vector>

namespace antiphon::neural {

struct FastLstmLayer {
  int input_size = 0;
  int hidden = 0;
  std::vector<float> w_ih;  // [4H, input_size]
  std::vector<float> w_hh;  // [4H, H]
  std::vector<float> bias;  // [4H]: b_ih + b_hh
};

// std::allocator with cache-line alignment (the weight panels are streamed with aligned vector loads).
template <typename T>
struct CacheLineAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlign{64};
  CacheLineAllocator() = default;
  template <typename U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  void deallocate(T* p, size_t) { ::operator delete(p, kAlign); }
  template <typename U>
  bool operator==(const CacheLineAllocator<U>&) const { return true; }
};
using AlignedFloats = std::vector<float, CacheLineAllocator<float>>;

class FastLstm {
 public:
  // Which kernels run the products and the gate nonlinearities.
  enum class Isa {
    automatic,  // the best this CPU supports (the constructor resolves it to one of the others)
    generic,    // portable C++
    avx2,       // AVX2 + FMA intrinsics
  };

  // Layer k's input_size must equal layer k-1's hidden; out_w is [labels, H_last], out_b [labels].
  // Asserts consistent sizes. Throws ConfigError when `isa` names kernels this CPU cannot run.
  FastLstm(std::vector<FastLstmLayer> layers, std::vector<float> out_w, std::vector<float> out_b,
           Isa isa = Isa::automatic);

  // Per-sequence state; copy it to branch a sequence (beam search), the copies are independent.
  struct State {
    std::vector<float> h;        // every layer's hidden vector, concatenated
    std::vector<float> c;        // every layer's cell vector
    std::vector<float> scratch;  // gate and input buffers (so step() allocates nothing)
  };
  State start() const;  // zeros
  // One step with a one-hot input: layer 0's input projection is column `input_id` of w_ih (asserts the id
  // is in range). Writes the label logits (out_b.size() floats).
  void step_id(State& state, int input_id, std::span<float> logits) const;
  // One step with a dense input vector (layer 0's input_size floats).
  void step_dense(State& state, std::span<const float> input, std::span<float> logits) const;
  // The last layer's hidden vector after the last step (e.g. for attention or extra heads).
  std::span<const float> top_hidden(const State& state) const;

  int num_labels() const { return num_labels_; }
  int input_size() const { return layers_.front().input_size; }
  int num_layers() const { return static_cast<int>(layers_.size()); }
  Isa isa() const { return isa_; }  // never automatic
  static bool cpu_has_avx2();      // AVX2 and FMA

 private:
  // A matrix [rows, cols] stored as ceil(rows / kPanel) panels of [cols, kPanel] (zero rows pad the last).
  struct Panels {
    int cols = 0;
    AlignedFloats data;
  };
  struct Layer {
    int input_size = 0;
    int hidden = 0;
    int blocks = 0;  // panels per matrix: 4H rows rounded up to whole panels
    Panels w_ih, w_hh;
    AlignedFloats bias;  // [blocks * kPanel]
  };
  static Panels pack(const std::vector<float>& w, int rows, int cols, int blocks);
  void run_layers(State& state, const float* layer0_init, const float* input, std::span<float> logits) const;

  std::vector<Layer> layers_;
  AlignedFloats id_gates_;  // [input_size][blocks * kPanel]: layer 0's w_ih column per input id, plus the bias
  Panels out_w_;
  AlignedFloats out_b_;     // [out_blocks_ * kPanel]
  int out_blocks_ = 0;
  int num_labels_ = 0;
  size_t state_size_ = 0;   // sum of the layers' hidden sizes
  size_t gates_size_ = 0;   // the largest gate buffer (a layer's or the logits')
  Isa isa_ = Isa::generic;
};

}  // namespace antiphon::neural
