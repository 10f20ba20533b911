// The CPU backend: every operation of kernels.h applied to its indices in ascending order,
// single-threaded, so the floating-point evaluation order is fixed.
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "backend.h"
#include "util.h"

namespace lt {
namespace {

template <class Op>
void each(std::int64_t n, const Op& op) {
  for (std::int64_t i = 0; i < n; i++) op(i);
}

class CpuBackend final : public Backend {
 public:
  CpuBackend(const ParamLayout& L, int act, int max_batch) : L_(L), act_(act), max_batch_(max_batch) {
    params_.assign(L.n, 0.f);
    grads_.assign(L.n, 0.f);
    m_.assign(L.n, 0.f);
    v_.assign(L.n, 0.f);
    std::size_t mb = static_cast<std::size_t>(max_batch);
    X_.assign(mb * L.K, 0.f);
    dX_.assign(mb * L.K, 0.f);
    Hpre_.assign(mb * L.H, 0.f);
    Hact_.assign(mb * L.H, 0.f);
    dHpre_.assign(mb * L.H, 0.f);
    logits_.assign(mb * L.V, 0.f);
    dlogits_.assign(mb * L.V, 0.f);
    loss_.assign(mb, 0.f);
    chunks_ = (L.n + k::kNormChunk - 1) / k::kNormChunk;
    partial_.assign(static_cast<std::size_t>(chunks_), 0.0);
  }

  const char* name() const override { return "cpu"; }
  std::string device() const override { return cpu_name() + " (1 thread)"; }

  void set_state(const float* p, const float* m, const float* v) override {
    params_.assign(p, p + L_.n);
    m_.assign(m, m + L_.n);
    v_.assign(v, v + L_.n);
  }

  void get_state(float* p, float* m, float* v) override {
    std::copy(params_.begin(), params_.end(), p);
    std::copy(m_.begin(), m_.end(), m);
    std::copy(v_.begin(), v_.end(), v);
  }

  StepSums forward_backward(const std::int32_t* ctx, const std::int32_t* tgt, int B,
                            std::int64_t poison_row) override {
    if (B > max_batch_) throw std::runtime_error("batch larger than the backend's buffers");
    forward(ctx, B);
    each(B, k::SoftmaxXent{logits_.data(), tgt, loss_.data(), nullptr, dlogits_.data(), L_, 1.0f / float(B),
                           poison_row});
    each(L_.V, k::GradB2{dlogits_.data(), grads_.data(), L_, B});
    each(std::int64_t(L_.V) * L_.H, k::GradW2{dlogits_.data(), Hact_.data(), grads_.data(), L_, B});
    each(std::int64_t(B) * L_.H,
         k::DHidden{dlogits_.data(), params_.data(), Hpre_.data(), Hact_.data(), dHpre_.data(), L_, act_});
    each(L_.H, k::GradB1{dHpre_.data(), grads_.data(), L_, B});
    each(std::int64_t(L_.H) * L_.K, k::GradW1{dHpre_.data(), X_.data(), grads_.data(), L_, B});
    each(std::int64_t(B) * L_.K, k::DX{dHpre_.data(), params_.data(), dX_.data(), L_});
    each(std::int64_t(L_.V) * L_.E, k::GradEmb{ctx, dX_.data(), grads_.data(), L_, B});
    each(chunks_, k::SumSqPartial{grads_.data(), partial_.data(), L_.n});
    double out[2];
    each(1, k::Finalize{loss_.data(), partial_.data(), out, B, chunks_});
    return StepSums{out[0], out[1]};
  }

  void get_grads(float* g) override { std::copy(grads_.begin(), grads_.end(), g); }

  void adamw(const AdamWArgs& a) override {
    each(L_.n, k::AdamW{params_.data(), grads_.data(), m_.data(), v_.data(), a.lr, a.beta1, a.beta2, a.eps,
                        a.weight_decay, a.bc1, a.bc2});
  }

  void evaluate(const std::int32_t* ctx, const std::int32_t* tgt, int n, float* loss,
                std::int32_t* argmax) override {
    if (n > max_batch_) throw std::runtime_error("evaluation batch larger than the backend's buffers");
    forward(ctx, n);
    each(n, k::SoftmaxXent{logits_.data(), tgt, loss, argmax, nullptr, L_, 1.0f, -1});
  }

 private:
  void forward(const std::int32_t* ctx, int B) {
    each(std::int64_t(B) * L_.K, k::GatherX{ctx, params_.data(), X_.data(), L_});
    each(std::int64_t(B) * L_.H, k::Hidden{params_.data(), X_.data(), Hpre_.data(), Hact_.data(), L_, act_});
    each(std::int64_t(B) * L_.V, k::Logits{params_.data(), Hact_.data(), logits_.data(), L_});
  }

  ParamLayout L_;
  int act_;
  int max_batch_;
  std::int64_t chunks_;
  std::vector<float> params_, grads_, m_, v_, X_, dX_, Hpre_, Hact_, dHpre_, logits_, dlogits_, loss_;
  std::vector<double> partial_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const ParamLayout& L, int act, int max_batch) {
  return std::make_unique<CpuBackend>(L, act, max_batch);
}

}  // namespace lt
