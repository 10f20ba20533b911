// The CUDA backend: every operation of kernels.h runs one thread per output element.
// Reductions are loops inside a single thread in a fixed order (no atomics, no shared-memory
// trees whose order could change), so a given binary on a given GPU model reproduces its
// results bit for bit. Kernels are simple on purpose: correctness and determinism over speed.
#include <cuda_runtime.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend.h"
#include "util.h"

namespace lt {
namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(e));
}

template <class Op>
__global__ void each_kernel(std::int64_t n, Op op) {
  std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) op(i);
}

constexpr int kThreads = 256;

template <class Op>
void each(std::int64_t n, const Op& op, const char* what) {
  if (n <= 0) return;
  std::int64_t blocks = (n + kThreads - 1) / kThreads;
  each_kernel<Op><<<static_cast<unsigned>(blocks), kThreads>>>(n, op);
  check(cudaGetLastError(), what);
}

template <class T>
struct DeviceBuffer {
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* p = nullptr;
  std::size_t n = 0;
  void alloc(std::size_t count) {
    n = count;
    check(cudaMalloc(&p, (count ? count : 1) * sizeof(T)), "cudaMalloc");
    check(cudaMemset(p, 0, (count ? count : 1) * sizeof(T)), "cudaMemset");
  }
  ~DeviceBuffer() {
    if (p) cudaFree(p);
  }
};

// FP32 lanes (FMA units) per SM by compute capability.
int fp32_lanes_per_sm(int major, int minor) {
  if (major == 8 && minor == 0) return 64;  // A100
  if (major < 8) return 64;                 // Volta, Turing
  return 128;                               // GA10x, Ada, Hopper, Blackwell
}

class CudaBackend final : public Backend {
 public:
  CudaBackend(const ParamLayout& L, int act, int max_batch) : L_(L), act_(act), max_batch_(max_batch) {
    check(cudaSetDevice(0), "cudaSetDevice");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    int clock_khz = 0;
    check(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, 0), "cudaDeviceGetAttribute");
    char desc[512];
    std::snprintf(desc, sizeof desc, "%s (sm_%d%d, %d SMs)", prop.name, prop.major, prop.minor,
                  prop.multiProcessorCount);
    device_ = desc;
    peak_ = double(prop.multiProcessorCount) * double(clock_khz) * 1e3 *
            double(fp32_lanes_per_sm(prop.major, prop.minor)) * 2.0;

    std::size_t mb = static_cast<std::size_t>(max_batch);
    params_.alloc(L.n);
    grads_.alloc(L.n);
    m_.alloc(L.n);
    v_.alloc(L.n);
    X_.alloc(mb * L.K);
    dX_.alloc(mb * L.K);
    Hpre_.alloc(mb * L.H);
    Hact_.alloc(mb * L.H);
    dHpre_.alloc(mb * L.H);
    logits_.alloc(mb * L.V);
    dlogits_.alloc(mb * L.V);
    loss_.alloc(mb);
    argmax_.alloc(mb);
    ctx_.alloc(mb * L.C);
    tgt_.alloc(mb);
    chunks_ = (L.n + k::kNormChunk - 1) / k::kNormChunk;
    partial_.alloc(static_cast<std::size_t>(chunks_));
    out_.alloc(2);
  }

  const char* name() const override { return "cuda"; }
  std::string device() const override { return device_; }
  double peak_flops() const override { return peak_; }

  void set_state(const float* p, const float* m, const float* v) override {
    std::size_t bytes = std::size_t(L_.n) * sizeof(float);
    check(cudaMemcpy(params_.p, p, bytes, cudaMemcpyHostToDevice), "upload params");
    check(cudaMemcpy(m_.p, m, bytes, cudaMemcpyHostToDevice), "upload m");
    check(cudaMemcpy(v_.p, v, bytes, cudaMemcpyHostToDevice), "upload v");
  }

  void get_state(float* p, float* m, float* v) override {
    std::size_t bytes = std::size_t(L_.n) * sizeof(float);
    check(cudaMemcpy(p, params_.p, bytes, cudaMemcpyDeviceToHost), "download params");
    check(cudaMemcpy(m, m_.p, bytes, cudaMemcpyDeviceToHost), "download m");
    check(cudaMemcpy(v, v_.p, bytes, cudaMemcpyDeviceToHost), "download v");
  }

  StepSums forward_backward(const std::int32_t* ctx, const std::int32_t* tgt, int B,
                            std::int64_t poison_row) override {
    if (B > max_batch_) throw std::runtime_error("batch larger than the backend's buffers");
    upload_batch(ctx, tgt, B);
    forward(B);
    each(B, k::SoftmaxXent{logits_.p, tgt_.p, loss_.p, nullptr, dlogits_.p, L_, 1.0f / float(B), poison_row},
         "softmax");
    each(L_.V, k::GradB2{dlogits_.p, grads_.p, L_, B}, "grad b2");
    each(std::int64_t(L_.V) * L_.H, k::GradW2{dlogits_.p, Hact_.p, grads_.p, L_, B}, "grad W2");
    each(std::int64_t(B) * L_.H, k::DHidden{dlogits_.p, params_.p, Hpre_.p, Hact_.p, dHpre_.p, L_, act_},
         "d hidden");
    each(L_.H, k::GradB1{dHpre_.p, grads_.p, L_, B}, "grad b1");
    each(std::int64_t(L_.H) * L_.K, k::GradW1{dHpre_.p, X_.p, grads_.p, L_, B}, "grad W1");
    each(std::int64_t(B) * L_.K, k::DX{dHpre_.p, params_.p, dX_.p, L_}, "d X");
    each(std::int64_t(L_.V) * L_.E, k::GradEmb{ctx_.p, dX_.p, grads_.p, L_, B}, "grad emb");
    each(chunks_, k::SumSqPartial{grads_.p, partial_.p, L_.n}, "grad norm");
    each(1, k::Finalize{loss_.p, partial_.p, out_.p, B, chunks_}, "finalize");
    double out[2];
    check(cudaMemcpy(out, out_.p, sizeof out, cudaMemcpyDeviceToHost), "download sums");
    return StepSums{out[0], out[1]};
  }

  void get_grads(float* g) override {
    check(cudaMemcpy(g, grads_.p, std::size_t(L_.n) * sizeof(float), cudaMemcpyDeviceToHost), "download grads");
  }

  void adamw(const AdamWArgs& a) override {
    each(L_.n, k::AdamW{params_.p, grads_.p, m_.p, v_.p, a.lr, a.beta1, a.beta2, a.eps, a.weight_decay, a.bc1, a.bc2},
         "adamw");
  }

  void synchronize() override { check(cudaDeviceSynchronize(), "synchronize"); }

  void evaluate(const std::int32_t* ctx, const std::int32_t* tgt, int n, float* loss,
                std::int32_t* argmax) override {
    if (n > max_batch_) throw std::runtime_error("evaluation batch larger than the backend's buffers");
    upload_batch(ctx, tgt, n);
    forward(n);
    each(n, k::SoftmaxXent{logits_.p, tgt_.p, loss_.p, argmax_.p, nullptr, L_, 1.0f, -1}, "softmax");
    check(cudaMemcpy(loss, loss_.p, std::size_t(n) * sizeof(float), cudaMemcpyDeviceToHost), "download loss");
    check(cudaMemcpy(argmax, argmax_.p, std::size_t(n) * sizeof(std::int32_t), cudaMemcpyDeviceToHost),
          "download argmax");
  }

 private:
  void upload_batch(const std::int32_t* ctx, const std::int32_t* tgt, int B) {
    check(cudaMemcpy(ctx_.p, ctx, std::size_t(B) * L_.C * sizeof(std::int32_t), cudaMemcpyHostToDevice),
          "upload contexts");
    check(cudaMemcpy(tgt_.p, tgt, std::size_t(B) * sizeof(std::int32_t), cudaMemcpyHostToDevice), "upload targets");
  }

  void forward(int B) {
    each(std::int64_t(B) * L_.K, k::GatherX{ctx_.p, params_.p, X_.p, L_}, "gather");
    each(std::int64_t(B) * L_.H, k::Hidden{params_.p, X_.p, Hpre_.p, Hact_.p, L_, act_}, "hidden");
    each(std::int64_t(B) * L_.V, k::Logits{params_.p, Hact_.p, logits_.p, L_}, "logits");
  }

  ParamLayout L_;
  int act_;
  int max_batch_;
  std::int64_t chunks_ = 0;
  std::string device_;
  double peak_ = 0;
  DeviceBuffer<float> params_, grads_, m_, v_, X_, dX_, Hpre_, Hact_, dHpre_, logits_, dlogits_, loss_;
  DeviceBuffer<std::int32_t> argmax_, ctx_, tgt_;
  DeviceBuffer<double> partial_, out_;
};

}  // namespace

CudaProbe cuda_probe() {
  CudaProbe p;
  p.compiled = true;
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();
    if (e == cudaErrorNoDevice) {
      p.reason = "no CUDA device";
    } else if (e == cudaErrorInsufficientDriver) {
      p.reason = "no CUDA device: no usable CUDA driver";
    } else {
      p.reason = std::string("no CUDA device: ") + cudaGetErrorString(e);
    }
    return p;
  }
  if (count <= 0) {
    p.reason = "no CUDA device";
    return p;
  }
  cudaDeviceProp prop{};
  e = cudaGetDeviceProperties(&prop, 0);
  if (e != cudaSuccess) {
    cudaGetLastError();
    p.reason = std::string("no usable CUDA device: ") + cudaGetErrorString(e);
    return p;
  }
  cudaFuncAttributes attr{};
  e = cudaFuncGetAttributes(&attr, each_kernel<k::AdamW>);
  if (e != cudaSuccess) {
    cudaGetLastError();
    p.reason = std::string("no usable CUDA device: ") + prop.name + " (sm_" + std::to_string(prop.major) +
               std::to_string(prop.minor) + ") cannot run this binary's kernels: " + cudaGetErrorString(e);
    return p;
  }
  p.usable = true;
  p.reason = std::string("device 0: ") + prop.name + ", sm_" + std::to_string(prop.major) +
             std::to_string(prop.minor) + ", " + std::to_string(count) + " device(s) visible";
  return p;
}

std::unique_ptr<Backend> make_cuda_backend(const ParamLayout& L, int act, int max_batch) {
  return std::make_unique<CudaBackend>(L, act, max_batch);
}

}  // namespace lt
