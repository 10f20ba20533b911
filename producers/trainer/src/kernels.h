// The model's math, written once as per-element operations that both backends run:
// the CPU backend calls each operation for every index in order, the CUDA backend runs one
// thread per index. Each operation writes only its own output element and reduces over a
// fixed index range in a fixed order, so results never depend on scheduling: no atomics,
// no data races, no reassociation.
//
// Model: token embedding (V x E) -> concatenation of the C context embeddings (K = C*E)
//        -> hidden layer W1 (H x K) + b1, tanh or GELU -> output layer W2 (V x H) + b2
//        -> softmax cross-entropy against the next token.
// All parameters live in one float buffer (see ParamLayout), and so do their gradients and
// the AdamW moments, which keeps the optimizer and the gradient norm single loops.
#pragma once

#include <math.h>

#include <cstdint>

#if defined(__CUDACC__)
#define LT_HD __host__ __device__ inline
#else
#define LT_HD inline
#endif

namespace lt {

enum Activation : int { kTanh = 0, kGelu = 1 };

struct ParamLayout {
  int V = 0, C = 0, E = 0, H = 0, K = 0;
  std::int64_t emb = 0, w1 = 0, b1 = 0, w2 = 0, b2 = 0, n = 0;

  static ParamLayout make(int vocab, int context, int embed, int hidden) {
    ParamLayout p;
    p.V = vocab;
    p.C = context;
    p.E = embed;
    p.H = hidden;
    p.K = context * embed;
    p.emb = 0;
    p.w1 = p.emb + std::int64_t(p.V) * p.E;
    p.b1 = p.w1 + std::int64_t(p.H) * p.K;
    p.w2 = p.b1 + p.H;
    p.b2 = p.w2 + std::int64_t(p.V) * p.H;
    p.n = p.b2 + p.V;
    return p;
  }
};

namespace k {

constexpr float kGeluC = 0.7978845608028654f;  // sqrt(2/pi)
constexpr float kGeluA = 0.044715f;

LT_HD float act_fwd(int act, float x) {
  if (act == kGelu) {
    float u = kGeluC * (x + kGeluA * x * x * x);
    return 0.5f * x * (1.0f + tanhf(u));
  }
  return tanhf(x);
}

// Derivative of the activation at pre-activation x, given y = act(x).
LT_HD float act_grad(int act, float x, float y) {
  if (act == kGelu) {
    float u = kGeluC * (x + kGeluA * x * x * x);
    float t = tanhf(u);
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kGeluC * (1.0f + 3.0f * kGeluA * x * x);
  }
  return 1.0f - y * y;
}

// X[b, c*E + e] = emb[ctx[b, c], e]           index: b*K + c*E + e
struct GatherX {
  const std::int32_t* ctx;
  const float* params;
  float* X;
  ParamLayout L;
  LT_HD void operator()(std::int64_t i) const {
    std::int64_t b = i / L.K;
    int r = int(i % L.K);
    int c = r / L.E, e = r % L.E;
    X[i] = params[L.emb + std::int64_t(ctx[b * L.C + c]) * L.E + e];
  }
};

// Hpre[b, j] = b1[j] + sum_k W1[j, k] X[b, k];  Hact = act(Hpre)    index: b*H + j
struct Hidden {
  const float* params;
  const float* X;
  float* Hpre;
  float* Hact;
  ParamLayout L;
  int act;
  LT_HD void operator()(std::int64_t i) const {
    std::int64_t b = i / L.H;
    int j = int(i % L.H);
    const float* w = params + L.w1 + std::int64_t(j) * L.K;
    const float* x = X + b * L.K;
    float s = params[L.b1 + j];
    for (int q = 0; q < L.K; q++) s += w[q] * x[q];
    Hpre[i] = s;
    Hact[i] = act_fwd(act, s);
  }
};

// logits[b, v] = b2[v] + sum_j W2[v, j] Hact[b, j]    index: b*V + v
struct Logits {
  const float* params;
  const float* Hact;
  float* logits;
  ParamLayout L;
  LT_HD void operator()(std::int64_t i) const {
    std::int64_t b = i / L.V;
    int v = int(i % L.V);
    const float* w = params + L.w2 + std::int64_t(v) * L.H;
    const float* h = Hact + b * L.H;
    float s = params[L.b2 + v];
    for (int j = 0; j < L.H; j++) s += w[j] * h[j];
    logits[i] = s;
  }
};

// Per row b: loss[b] = logsumexp(logits[b]) - logits[b, tgt[b]], argmax[b], and when dlogits
// is set, dlogits[b, v] = (softmax - onehot) * inv_batch. Row poison_row gets a NaN logit
// (fault injection: the whole step then turns non-finite).               index: b
struct SoftmaxXent {
  float* logits;
  const std::int32_t* tgt;
  float* loss;
  std::int32_t* argmax;
  float* dlogits;
  ParamLayout L;
  float inv_batch;
  std::int64_t poison_row;
  LT_HD void operator()(std::int64_t b) const {
    float* row = logits + b * L.V;
    if (b == poison_row) row[0] = NAN;
    float mx = row[0];
    int am = 0;
    for (int v = 1; v < L.V; v++) {
      if (row[v] > mx) {
        mx = row[v];
        am = v;
      }
    }
    float sum = 0.0f;
    for (int v = 0; v < L.V; v++) sum += expf(row[v] - mx);
    int t = tgt[b];
    loss[b] = (mx + logf(sum)) - row[t];
    if (argmax) argmax[b] = am;
    if (dlogits) {
      float* d = dlogits + b * L.V;
      for (int v = 0; v < L.V; v++) {
        float p = expf(row[v] - mx) / sum;
        d[v] = (p - (v == t ? 1.0f : 0.0f)) * inv_batch;
      }
    }
  }
};

// grad b2[v] = sum_b dlogits[b, v]                        index: v
struct GradB2 {
  const float* dlogits;
  float* grads;
  ParamLayout L;
  int B;
  LT_HD void operator()(std::int64_t v) const {
    float s = 0.0f;
    for (int b = 0; b < B; b++) s += dlogits[std::int64_t(b) * L.V + v];
    grads[L.b2 + v] = s;
  }
};

// grad W2[v, j] = sum_b dlogits[b, v] Hact[b, j]           index: v*H + j
struct GradW2 {
  const float* dlogits;
  const float* Hact;
  float* grads;
  ParamLayout L;
  int B;
  LT_HD void operator()(std::int64_t i) const {
    int v = int(i / L.H), j = int(i % L.H);
    float s = 0.0f;
    for (int b = 0; b < B; b++) s += dlogits[std::int64_t(b) * L.V + v] * Hact[std::int64_t(b) * L.H + j];
    grads[L.w2 + i] = s;
  }
};

// dHpre[b, j] = (sum_v dlogits[b, v] W2[v, j]) * act'(Hpre[b, j])     index: b*H + j
struct DHidden {
  const float* dlogits;
  const float* params;
  const float* Hpre;
  const float* Hact;
  float* dHpre;
  ParamLayout L;
  int act;
  LT_HD void operator()(std::int64_t i) const {
    std::int64_t b = i / L.H;
    int j = int(i % L.H);
    const float* d = dlogits + b * L.V;
    float s = 0.0f;
    for (int v = 0; v < L.V; v++) s += d[v] * params[L.w2 + std::int64_t(v) * L.H + j];
    dHpre[i] = s * act_grad(act, Hpre[i], Hact[i]);
  }
};

// grad b1[j] = sum_b dHpre[b, j]                          index: j
struct GradB1 {
  const float* dHpre;
  float* grads;
  ParamLayout L;
  int B;
  LT_HD void operator()(std::int64_t j) const {
    float s = 0.0f;
    for (int b = 0; b < B; b++) s += dHpre[std::int64_t(b) * L.H + j];
    grads[L.b1 + j] = s;
  }
};

// grad W1[j, q] = sum_b dHpre[b, j] X[b, q]                index: j*K + q
struct GradW1 {
  const float* dHpre;
  const float* X;
  float* grads;
  ParamLayout L;
  int B;
  LT_HD void operator()(std::int64_t i) const {
    int j = int(i / L.K), q = int(i % L.K);
    float s = 0.0f;
    for (int b = 0; b < B; b++) s += dHpre[std::int64_t(b) * L.H + j] * X[std::int64_t(b) * L.K + q];
    grads[L.w1 + i] = s;
  }
};

// dX[b, q] = sum_j dHpre[b, j] W1[j, q]                    index: b*K + q
struct DX {
  const float* dHpre;
  const float* params;
  float* dX;
  ParamLayout L;
  LT_HD void operator()(std::int64_t i) const {
    std::int64_t b = i / L.K;
    int q = int(i % L.K);
    const float* d = dHpre + b * L.H;
    float s = 0.0f;
    for (int j = 0; j < L.H; j++) s += d[j] * params[L.w1 + std::int64_t(j) * L.K + q];
    dX[i] = s;
  }
};

// grad emb[v, e] = sum over (b, c) with ctx[b, c] == v of dX[b, c*E + e], in (b, c) order.
// A gather instead of a scatter, so no two threads write the same element.   index: v*E + e
struct GradEmb {
  const std::int32_t* ctx;
  const float* dX;
  float* grads;
  ParamLayout L;
  int B;
  LT_HD void operator()(std::int64_t i) const {
    int v = int(i / L.E), e = int(i % L.E);
    float s = 0.0f;
    for (int b = 0; b < B; b++) {
      for (int c = 0; c < L.C; c++) {
        if (ctx[std::int64_t(b) * L.C + c] == v) s += dX[std::int64_t(b) * L.K + c * L.E + e];
      }
    }
    grads[L.emb + i] = s;
  }
};

// Partial sums of squared gradients over fixed chunks.      index: chunk
constexpr int kNormChunk = 1024;
struct SumSqPartial {
  const float* grads;
  double* partial;
  std::int64_t n;
  LT_HD void operator()(std::int64_t c) const {
    std::int64_t lo = c * kNormChunk, hi = lo + kNormChunk < n ? lo + kNormChunk : n;
    double s = 0.0;
    for (std::int64_t i = lo; i < hi; i++) s += double(grads[i]) * double(grads[i]);
    partial[c] = s;
  }
};

// Single element: out[0] = sum_b loss[b], out[1] = sum of the partials, both in index order.
struct Finalize {
  const float* loss;
  const double* partial;
  double* out;
  int B;
  std::int64_t chunks;
  LT_HD void operator()(std::int64_t) const {
    double s = 0.0;
    for (int b = 0; b < B; b++) s += double(loss[b]);
    out[0] = s;
    double g = 0.0;
    for (std::int64_t c = 0; c < chunks; c++) g += partial[c];
    out[1] = g;
  }
};

// AdamW (decoupled weight decay, as torch.optim.AdamW):
//   p <- p - lr*wd*p;  m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;
//   p <- p - lr * (m / bc1) / (sqrt(v / bc2) + eps)                    index: i
struct AdamW {
  float* params;
  const float* grads;
  float* m;
  float* v;
  float lr, beta1, beta2, eps, weight_decay, bc1, bc2;
  LT_HD void operator()(std::int64_t i) const {
    float g = grads[i];
    float p = params[i];
    p = p - lr * weight_decay * p;
    float mi = beta1 * m[i] + (1.0f - beta1) * g;
    float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    float mhat = mi / bc1;
    float vhat = vi / bc2;
    params[i] = p - lr * mhat / (sqrtf(vhat) + eps);
  }
};

}  // namespace k
}  // namespace lt
