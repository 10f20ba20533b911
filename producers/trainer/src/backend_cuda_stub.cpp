// Used when the trainer is built without a CUDA compiler (or with -DLEDGER_TRAINER_CUDA=OFF).
#include "backend.h"
#include "util.h"

namespace lt {

CudaProbe cuda_probe() {
  CudaProbe p;
  p.reason = "built without CUDA";
  return p;
}

std::unique_ptr<Backend> make_cuda_backend(const ParamLayout&, int, int) {
  throw UsageError("--backend cuda: this build has no CUDA backend (built without CUDA)");
}

}  // namespace lt
