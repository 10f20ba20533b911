// Compute backends. Both run the operations of kernels.h; the host side (data, sampling,
// schedule, checkpoints, events) is shared and never depends on which backend runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "kernels.h"

namespace lt {

// Sums the host reads back after a forward/backward pass.
struct StepSums {
  double loss_sum = 0;    // sum of the per-sample losses, in sample order
  double grad_sumsq = 0;  // sum of squared gradients over all parameters, in a fixed order
};

struct AdamWArgs {
  float lr, beta1, beta2, eps, weight_decay;
  float bc1, bc2;  // bias corrections 1 - beta^t
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;  // "cpu" or "cuda"
  virtual std::string device() const = 0;
  // Peak FP32 FLOP/s of the device, or 0 where MFU is not reported.
  virtual double peak_flops() const { return 0; }
  // Copies parameters and AdamW moments (ParamLayout::n floats each) in / out.
  virtual void set_state(const float* params, const float* m, const float* v) = 0;
  virtual void get_state(float* params, float* m, float* v) = 0;
  // Forward + backward on a batch of B windows (ctx: B*C token ids, tgt: B ids) into the
  // gradient buffer. poison_row >= 0 makes that sample's loss NaN (fault injection).
  virtual StepSums forward_backward(const std::int32_t* ctx, const std::int32_t* tgt, int B,
                                    std::int64_t poison_row) = 0;
  // Copies the gradient buffer of the last forward_backward out (for tests).
  virtual void get_grads(float* g) = 0;
  // One AdamW update from the gradient buffer.
  virtual void adamw(const AdamWArgs& a) = 0;
  // Waits for queued work (for step timing).
  virtual void synchronize() {}
  // Forward only: per-sample loss and argmax prediction for n <= max_batch windows.
  virtual void evaluate(const std::int32_t* ctx, const std::int32_t* tgt, int n, float* loss,
                        std::int32_t* argmax) = 0;
};

std::unique_ptr<Backend> make_cpu_backend(const ParamLayout& L, int act, int max_batch);

struct CudaProbe {
  bool compiled = false;  // this binary has the CUDA backend
  bool usable = false;    // a device is present and runs our kernels
  std::string reason;     // why not, or the device description
};
CudaProbe cuda_probe();
std::unique_ptr<Backend> make_cuda_backend(const ParamLayout& L, int act, int max_batch);

}  // namespace lt
