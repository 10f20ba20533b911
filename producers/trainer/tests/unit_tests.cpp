// Unit tests of lineage-trainer's building blocks: SHA-256 against FIPS 180-4 vectors, the
// JSON writer, the RNG, the data stages, checkpoint round trips, the sampler's resumability
// and the model's gradients against finite differences.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backend.h"
#include "checkpoint.h"
#include "data.h"
#include "json.h"
#include "options.h"
#include "rng.h"
#include "sha256.h"
#include "trainer.h"
#include "util.h"

namespace {

int failures = 0;
int checks = 0;

#define CHECK(cond)                                                     \
  do {                                                                  \
    checks++;                                                           \
    if (!(cond)) {                                                      \
      failures++;                                                       \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                   \
  } while (0)

#define CHECK_EQ(a, b)                                                                      \
  do {                                                                                      \
    checks++;                                                                               \
    auto va = (a);                                                                          \
    auto vb = (b);                                                                          \
    if (!(va == vb)) {                                                                      \
      failures++;                                                                           \
      std::fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s\n  got:      %s\n  expected: %s\n", __FILE__, \
                   __LINE__, #a, #b, to_s(va).c_str(), to_s(vb).c_str());                  \
    }                                                                                       \
  } while (0)

std::string to_s(const std::string& s) { return s; }
template <class T>
std::string to_s(const T& v) {
  return std::to_string(v);
}

void test_sha256() {
  using lt::sha256_hex;
  CHECK_EQ(sha256_hex(""), std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  CHECK_EQ(sha256_hex("abc"), std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  CHECK_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
           std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
  CHECK_EQ(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
           std::string("cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"));
  CHECK_EQ(sha256_hex("The quick brown fox jumps over the lazy dog"),
           std::string("d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"));
  std::string million(1000000, 'a');
  CHECK_EQ(sha256_hex(million), std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
  // Incremental updates in awkward chunk sizes give the one-shot digest.
  for (std::size_t chunk : {1u, 3u, 55u, 56u, 63u, 64u, 65u, 1000u}) {
    lt::Sha256 h;
    for (std::size_t i = 0; i < million.size(); i += chunk) {
      h.update(million.data() + i, std::min(chunk, million.size() - i));
    }
    auto d = h.finish();
    CHECK_EQ(lt::to_hex(d.data(), d.size()), std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
  }
  // Padding boundaries: 55, 56 and 64 bytes.
  CHECK_EQ(sha256_hex(std::string(55, 'a')), std::string("9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"));
  CHECK_EQ(sha256_hex(std::string(56, 'a')), std::string("b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"));
  CHECK_EQ(sha256_hex(std::string(64, 'a')), std::string("ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"));
  CHECK_EQ(lt::sha256_digest("abc").substr(0, 7), std::string("sha256:"));
  CHECK_EQ(lt::short_hex(lt::sha256_digest("abc")), std::string("ba7816bf8f01"));
}

void test_json() {
  lt::JsonWriter w;
  w.begin_object();
  w.field("s", std::string("q\"b\\n\nt\tc\x01z\x7f"));
  w.field("u", std::string("caf\xc3\xa9"));
  w.field("bad", std::string("a\xff" "b"));
  w.field("lr", 0.003);
  w.field("eps", 1e-8);
  w.field("third", 1.0 / 3.0);
  w.field("i", std::int64_t(-5));
  w.field("big", std::uint64_t(18446744073709551615ULL));
  w.field("nan", NAN);
  w.field("inf", INFINITY);
  w.field("ninf", -INFINITY);
  w.field("t", true);
  w.field_null("n");
  w.key("a").begin_array().value(1).value("x").begin_object().end_object().begin_array().end_array().end_array();
  w.key("o").begin_object().field("k", 2).end_object();
  w.end_object();
  CHECK_EQ(w.str(),
           std::string("{\"s\":\"q\\\"b\\\\n\\nt\\tc\\u0001z\\u007f\",\"u\":\"caf\xc3\xa9\",\"bad\":\"a\\ufffdb\","
                       "\"lr\":0.003,\"eps\":1e-08,\"third\":0.3333333333333333,\"i\":-5,"
                       "\"big\":18446744073709551615,\"nan\":\"NaN\",\"inf\":\"Infinity\",\"ninf\":\"-Infinity\","
                       "\"t\":true,\"n\":null,\"a\":[1,\"x\",{},[]],\"o\":{\"k\":2}}"));
  for (double d : {0.1, 2.5e-300, 1.7976931348623157e308, 123456789.0, -0.75, 3.0e-3}) {
    CHECK(std::strtod(lt::json_number(d).c_str(), nullptr) == d);
  }

  // The reader takes back what the writer wrote.
  lt::JsonValue back = lt::parse_json(w.str());
  CHECK(back.kind == lt::JsonValue::Kind::Object);
  CHECK_EQ(back.get("s")->text, std::string("q\"b\\n\nt\tc\x01z\x7f"));
  CHECK_EQ(back.get("u")->text, std::string("caf\xc3\xa9"));
  CHECK_EQ(back.get("lr")->text, std::string("0.003"));
  CHECK_EQ(back.get("big")->text, std::string("18446744073709551615"));
  CHECK(back.get("t")->boolean);
  CHECK(back.get("n")->kind == lt::JsonValue::Kind::Null);
  CHECK_EQ(back.get("a")->items.size(), std::size_t(4));
  CHECK_EQ(back.get("o")->get("k")->text, std::string("2"));
  CHECK(back.get("missing") == nullptr);
  CHECK_EQ(lt::parse_json(" \"\\ud83d\\ude00 \\u00e9\" ").text, std::string("\xf0\x9f\x98\x80 \xc3\xa9"));
  for (const char* bad : {"", "{", "{\"a\" 1}", "[1,]", "01x", "\"open", "{\"a\":1} 2", "tru", "[\"\x01\"]"}) {
    bool threw = false;
    try {
      lt::parse_json(bad);
    } catch (const std::runtime_error& e) {
      threw = std::string(e.what()).find("invalid JSON at byte") == 0;
    }
    CHECK(threw);
  }
}

void test_rng() {
  std::uint64_t s = 0;
  CHECK_EQ(lt::splitmix64(s), std::uint64_t(0xe220a8397b1dcdafULL));
  lt::Xoshiro256 a(42, lt::Stream::kSampler), b(42, lt::Stream::kSampler), c(42, lt::Stream::kInit);
  CHECK(a == b);
  CHECK(a != c);
  for (int i = 0; i < 100; i++) a.next();
  lt::Xoshiro256 saved = a;
  std::uint64_t x = a.next();
  CHECK_EQ(saved.next(), x);
  for (int i = 0; i < 1000; i++) {
    std::uint64_t v = a.below(7);
    CHECK(v < 7);
    float f = a.uniform01();
    CHECK(f >= 0.0f && f < 1.0f);
  }
}

void test_data_stages() {
  CHECK_EQ(lt::normalize_line("  Hello,\t\tWORLD!  \r"), std::string("hello, world!"));
  CHECK_EQ(lt::normalize_line("caf\xc3\x89  X"), std::string("caf\xc3\x89 x"));
  CHECK_EQ(lt::normalize_line(" \t "), std::string(""));
  auto lines = lt::split_lines("a\nb\n\nc");
  CHECK_EQ(lines.size(), std::size_t(4));
  CHECK_EQ(lt::join_lines(lines), std::string("a\nb\n\nc\n"));
  CHECK_EQ(lt::split_lines("a\n").size(), std::size_t(1));
  auto tok = lt::tokenize("ba\n", "ca");
  CHECK_EQ(tok.vocab, std::string("\nabc"));
  CHECK_EQ(tok.train.size(), std::size_t(3));
  CHECK_EQ(tok.train[0], 2);
  CHECK_EQ(tok.validation[0], 3);
}

void test_checkpoint() {
  lt::TrainState s;
  s.vocab = "\nabc";
  s.context = 2;
  s.embed = 3;
  s.hidden = 4;
  s.lr = 0.003;
  s.step = 150;
  s.adam_t = 149;
  s.epoch_rng = lt::Xoshiro256(1, lt::Stream::kSampler);
  s.rng = lt::Xoshiro256(2, lt::Stream::kSampler);
  s.params = {1.0f, -2.5f, NAN};
  s.m = {0.1f, 0.2f, 0.3f};
  s.v = {0.01f, 0.02f, 0.03f};
  std::string bytes = lt::serialize_checkpoint(s);
  CHECK_EQ(lt::serialize_checkpoint(s), bytes);
  lt::TrainState r = lt::parse_checkpoint(bytes, "mem");
  CHECK_EQ(r.vocab, s.vocab);
  CHECK_EQ(r.step, s.step);
  CHECK_EQ(r.adam_t, s.adam_t);
  CHECK(r.lr == s.lr);
  CHECK(r.rng == s.rng);
  CHECK(r.epoch_rng == s.epoch_rng);
  CHECK(r.params.size() == 3 && r.params[1] == -2.5f && std::isnan(r.params[2]));
  CHECK_EQ(lt::serialize_checkpoint(r), bytes);
  bool threw = false;
  std::string corrupt = bytes;
  corrupt[40] ^= 1;
  try {
    lt::parse_checkpoint(corrupt, "mem");
  } catch (const lt::UsageError&) {
    threw = true;
  }
  CHECK(threw);
  threw = false;
  try {
    lt::parse_checkpoint(bytes.substr(0, bytes.size() - 5), "mem");
  } catch (const lt::UsageError&) {
    threw = true;
  }
  CHECK(threw);
}

void test_schedule() {
  lt::Options o;
  o.lr = 1.0;
  CHECK(lt::schedule_lr(o, 1) == 1.0);
  o.warmup_steps = 10;
  CHECK(std::fabs(lt::schedule_lr(o, 5) - 0.5) < 1e-12);
  CHECK(lt::schedule_lr(o, 11) == 1.0);
  o.schedule = "cosine";
  o.decay_steps = 110;
  o.min_lr_ratio = 0.1;
  CHECK(std::fabs(lt::schedule_lr(o, 10) - 1.0) < 1e-12);
  CHECK(std::fabs(lt::schedule_lr(o, 60) - 0.55) < 1e-12);
  CHECK(std::fabs(lt::schedule_lr(o, 110) - 0.1) < 1e-12);
  CHECK(std::fabs(lt::schedule_lr(o, 500) - 0.1) < 1e-12);
}

void test_sampler_resume() {
  // Draw across several epochs; restoring the recorded state at any point reproduces the rest.
  const std::uint64_t windows = 37;
  lt::Sampler a(windows, 7);
  std::vector<std::uint64_t> seen_in_epoch(windows, 0);
  for (std::uint64_t i = 0; i < windows; i++) seen_in_epoch[a.next()]++;
  for (auto c : seen_in_epoch) CHECK_EQ(c, std::uint64_t(1));  // a permutation per epoch
  for (int cut : {0, 5, 36, 37, 80}) {
    lt::Sampler x(windows, 7);
    for (int i = 0; i < cut; i++) x.next();
    lt::Sampler y(windows, 999);
    CHECK(y.restore(x.epoch(), x.pos(), x.epoch_rng(), x.rng()));
    bool same = true;
    for (int i = 0; i < 200; i++) same = same && x.next() == y.next();
    CHECK(same);
  }
  lt::Sampler z(windows, 7);
  lt::Xoshiro256 wrong(5, lt::Stream::kInit);
  CHECK(!z.restore(0, 3, z.epoch_rng(), wrong));
}

// Central finite differences of the mean loss against the backend's analytic gradient.
void test_gradients(int act) {
  const lt::ParamLayout L = lt::ParamLayout::make(5, 3, 2, 4);
  const int B = 3;
  auto be = lt::make_cpu_backend(L, act, B);
  std::vector<float> p(L.n), zeros(L.n, 0.f);
  lt::Xoshiro256 rng(3, lt::Stream::kInit);
  for (auto& x : p) x = rng.uniform01() - 0.5f;
  std::vector<std::int32_t> ctx = {0, 1, 2, 3, 4, 0, 2, 2, 1};
  std::vector<std::int32_t> tgt = {4, 1, 3};
  be->set_state(p.data(), zeros.data(), zeros.data());
  be->forward_backward(ctx.data(), tgt.data(), B, -1);
  std::vector<float> g(L.n);
  be->get_grads(g.data());
  int bad = 0;
  for (std::int64_t i = 0; i < L.n; i++) {
    const float h = 1e-2f;
    std::vector<float> q = p;
    q[i] = p[i] + h;
    be->set_state(q.data(), zeros.data(), zeros.data());
    double up = be->forward_backward(ctx.data(), tgt.data(), B, -1).loss_sum / B;
    q[i] = p[i] - h;
    be->set_state(q.data(), zeros.data(), zeros.data());
    double down = be->forward_backward(ctx.data(), tgt.data(), B, -1).loss_sum / B;
    double fd = (up - down) / (2.0 * h);
    if (std::fabs(fd - g[i]) > 2e-3 + 2e-2 * std::fabs(fd)) {
      if (bad++ < 5) std::fprintf(stderr, "  gradient %lld: analytic %g finite-difference %g\n", (long long)i, g[i], fd);
    }
  }
  CHECK_EQ(bad, 0);
  // Poisoning a row makes the loss and the gradient norm non-finite.
  be->set_state(p.data(), zeros.data(), zeros.data());
  lt::StepSums s = be->forward_backward(ctx.data(), tgt.data(), B, 0);
  CHECK(std::isnan(s.loss_sum));
  CHECK(!std::isfinite(s.grad_sumsq));
}

void test_options() {
  const char* argv1[] = {"t", "--steps", "150", "--lr=0.01", "--resume", "x.bin", "--resume-without-optimizer-state"};
  lt::Options o = lt::parse_options(7, const_cast<char**>(argv1), "c.txt");
  CHECK_EQ(o.steps, std::uint64_t(150));
  CHECK(o.lr == 0.01);
  CHECK(o.resume_without_optimizer_state);
  CHECK_EQ(o.data_seed, std::uint64_t(42));
  CHECK_EQ(o.corpus, std::string("c.txt"));
  auto rejects = [](std::vector<const char*> args, const char* needle) {
    args.insert(args.begin(), "t");
    try {
      lt::parse_options(int(args.size()), const_cast<char**>(args.data()), "c.txt");
    } catch (const lt::UsageError& e) {
      return std::strstr(e.what(), needle) != nullptr;
    }
    return false;
  };
  CHECK(rejects({"--bogus"}, "--bogus"));
  CHECK(rejects({"--steps", "abc"}, "--steps"));
  CHECK(rejects({"--steps", "0"}, "--steps"));
  CHECK(rejects({"--steps"}, "--steps"));
  CHECK(rejects({"--lr", "-1"}, "--lr"));
  CHECK(rejects({"--backend", "tpu"}, "--backend"));
  CHECK(rejects({"--resume-without-optimizer-state"}, "--resume"));
}

}  // namespace

int main() {
  test_sha256();
  test_json();
  test_rng();
  test_data_stages();
  test_checkpoint();
  test_schedule();
  test_sampler_resume();
  test_gradients(lt::kTanh);
  test_gradients(lt::kGelu);
  test_options();
  std::fprintf(stderr, "%d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
