// Threading rules of the C API: several contexts on several threads give the single-thread
// results bit for bit, handles are shared read-only, the last error is per thread, and
// diffevent_context_cancel from another thread stops a running read or sampler.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "diffevent/diffevent.h"

namespace {

const std::string kSrc = DIFFEVENT_SOURCE_DIR;

std::vector<float> pixels(const diffevent_image* img) {
  int32_t c = 0, h = 0, w = 0;
  EXPECT_EQ(diffevent_image_shape(img, &c, &h, &w), DIFFEVENT_OK);
  std::vector<float> v(static_cast<size_t>(c) * h * w);
  EXPECT_EQ(diffevent_image_copy_data(img, v.data(), v.size()), DIFFEVENT_OK);
  return v;
}

struct Sample {
  diffevent_events* events = nullptr;
  diffevent_image* blurry = nullptr;
  Sample() {
    if (diffevent_events_read(nullptr, (kSrc + "/data/sample/events.h5").c_str(), nullptr,
                              &events) != DIFFEVENT_OK)
      return;  // no HDF5 in this build
    EXPECT_EQ(diffevent_image_read((kSrc + "/data/sample/blur.png").c_str(), &blurry),
              DIFFEVENT_OK);
  }
  ~Sample() {
    diffevent_events_destroy(events);
    diffevent_image_destroy(blurry);
  }
  bool ok() const { return events != nullptr && blurry != nullptr; }
};

std::vector<float> run_edi(diffevent_context* ctx, const Sample& s) {
  diffevent_image* out = nullptr;
  EXPECT_EQ(diffevent_edi_deblur(ctx, s.blurry, s.events, nullptr, &out), DIFFEVENT_OK)
      << diffevent_last_error();
  std::vector<float> v = out ? pixels(out) : std::vector<float>{};
  diffevent_image_destroy(out);
  return v;
}

std::vector<float> run_deblur(diffevent_context* ctx, const Sample& s, diffevent_prior* prior,
                              int steps) {
  diffevent_deblur_params p;
  diffevent_deblur_params_init(&p);
  p.steps = steps;
  p.seed = 3;
  diffevent_image* out = nullptr;
  EXPECT_EQ(diffevent_deblur(ctx, s.blurry, s.events, prior, nullptr, &p, &out, nullptr, nullptr),
            DIFFEVENT_OK)
      << diffevent_last_error();
  std::vector<float> v = out ? pixels(out) : std::vector<float>{};
  diffevent_image_destroy(out);
  return v;
}

TEST(CApiThreads, ContextsOnSeveralThreadsMatchTheSingleThreadResult) {
  // Given the sample and reference results computed on this thread
  Sample s;
  if (!s.ok()) GTEST_SKIP() << "HDF5 not compiled in";
  const std::vector<float> edi_ref = run_edi(nullptr, s);
  const bool torch = diffevent_has_torch() == 1;
  diffevent_prior* shared_prior = nullptr;
  std::vector<float> deblur_ref;
  if (torch) {
    ASSERT_EQ(diffevent_prior_load(nullptr, (kSrc + "/tests/data/tiny_prior.pt").c_str(), nullptr,
                                   &shared_prior),
              DIFFEVENT_OK);
    deblur_ref = run_deblur(nullptr, s, shared_prior, 6);
  }
  // When four threads, each with its own context (two integrator threads), share the handles
  constexpr int kThreads = 4;
  std::vector<std::vector<float>> edi_out(kThreads), deblur_out(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      diffevent_context_params cp;
      diffevent_context_params_init(&cp);
      cp.num_threads = 2;
      diffevent_context* ctx = nullptr;
      ASSERT_EQ(diffevent_context_create(&cp, &ctx), DIFFEVENT_OK);
      for (int rep = 0; rep < 3; ++rep) edi_out[i] = run_edi(ctx, s);
      if (torch) deblur_out[i] = run_deblur(ctx, s, shared_prior, 6);
      diffevent_context_destroy(ctx);
    });
  }
  for (auto& t : threads) t.join();
  // Then every thread got the reference bytes
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_EQ(edi_out[i].size(), edi_ref.size());
    EXPECT_EQ(std::memcmp(edi_out[i].data(), edi_ref.data(), edi_ref.size() * sizeof(float)), 0)
        << "thread " << i;
    if (torch) {
      ASSERT_EQ(deblur_out[i].size(), deblur_ref.size());
      EXPECT_EQ(
          std::memcmp(deblur_out[i].data(), deblur_ref.data(), deblur_ref.size() * sizeof(float)),
          0)
          << "thread " << i;
    }
  }
  diffevent_prior_destroy(shared_prior);
}

TEST(CApiThreads, LastErrorIsPerThread) {
  // Given two threads that fail in different ways at the same time
  std::atomic<int> ready{0};
  std::string msg_a, msg_b;
  auto fail_read = [&](const char* path, std::string* msg) {
    ready.fetch_add(1);
    while (ready.load() < 2) std::this_thread::yield();
    diffevent_events* ev = nullptr;
    for (int k = 0; k < 200; ++k) {
      EXPECT_NE(diffevent_events_read(nullptr, path, nullptr, &ev), DIFFEVENT_OK);
      *msg = diffevent_last_error();
      if (msg->find(path) == std::string::npos) return;  // another thread's message leaked in
    }
  };
  // When both read missing files in a loop
  std::thread a(fail_read, "/nonexistent/a_events.h5", &msg_a);
  std::thread b(fail_read, "/nonexistent/b_events.raw", &msg_b);
  a.join();
  b.join();
  // Then each thread only ever saw its own message
  EXPECT_NE(msg_a.find("a_events.h5"), std::string::npos) << msg_a;
  EXPECT_NE(msg_b.find("b_events.raw"), std::string::npos) << msg_b;
}

struct CancelProbe {
  std::atomic<int64_t> steps{0};
};

int32_t note_step(void* user_data, int64_t, int64_t) {
  static_cast<CancelProbe*>(user_data)->steps.fetch_add(1);
  return 0;
}

// A progress callback that, at its first call, tells the main thread and waits for its cancel:
// the cancel then lands while the call is still running, whatever the timing.
struct Handshake {
  std::atomic<bool> started{false}, cancelled{false};
};

int32_t DIFFEVENT_CALL wait_for_cancel(void* user, int64_t, int64_t) {
  auto* h = static_cast<Handshake*>(user);
  h->started.store(true);
  while (!h->cancelled.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return 0;
}

TEST(CApiThreads, CancelFromAnotherThreadStopsARead) {
  // Given a file of 2 million events (written through the C API) being read on a worker thread
  const size_t n = 2000000;
  std::vector<int64_t> t(n);
  std::vector<uint16_t> x(n), y(n);
  std::vector<int8_t> p(n);
  for (size_t i = 0; i < n; ++i) {
    t[i] = static_cast<int64_t>(i);
    x[i] = static_cast<uint16_t>(i % 64);
    y[i] = static_cast<uint16_t>((i / 64) % 48);
    p[i] = (i % 3) ? 1 : 0;
  }
  diffevent_events* all = nullptr;
  ASSERT_EQ(diffevent_events_from_arrays(64, 48, t.data(), x.data(), y.data(), p.data(), n, nullptr,
                                         &all),
            DIFFEVENT_OK);
  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("diffevent-cancel-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
        "-" + std::to_string(reinterpret_cast<uintptr_t>(all)) + ".npy"))
          .string();
  ASSERT_EQ(diffevent_events_write(nullptr, all, path.c_str(), nullptr), DIFFEVENT_OK)
      << diffevent_last_error();
  diffevent_events_destroy(all);
  diffevent_context* ctx = nullptr;
  ASSERT_EQ(diffevent_context_create(nullptr, &ctx), DIFFEVENT_OK);
  Handshake h;
  diffevent_read_params rp;
  diffevent_read_params_init(&rp);
  rp.width = 64;
  rp.height = 48;
  rp.progress = wait_for_cancel;
  rp.progress_user_data = &h;
  diffevent_events* out = nullptr;
  diffevent_status status = -1;
  std::string message;
  std::thread worker([&] {
    status = diffevent_events_read(ctx, path.c_str(), &rp, &out);
    message = diffevent_last_error();
  });
  // When this thread cancels after the first chunk
  while (!h.started.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(diffevent_context_cancel(ctx), DIFFEVENT_OK);
  h.cancelled.store(true);
  worker.join();
  // Then the read stops with CANCELLED and gives no events
  EXPECT_EQ(status, DIFFEVENT_E_CANCELLED) << message;
  EXPECT_NE(message.find("cancel"), std::string::npos) << message;
  EXPECT_EQ(out, nullptr);
  // And after a reset the same context reads the whole file
  ASSERT_EQ(diffevent_context_reset_cancel(ctx), DIFFEVENT_OK);
  rp.progress = nullptr;
  ASSERT_EQ(diffevent_events_read(ctx, path.c_str(), &rp, &out), DIFFEVENT_OK)
      << diffevent_last_error();
  diffevent_events_info info;
  diffevent_events_info_init(&info);
  ASSERT_EQ(diffevent_events_info_get(out, &info), DIFFEVENT_OK);
  EXPECT_EQ(info.count, n);
  diffevent_events_destroy(out);
  diffevent_context_destroy(ctx);
  std::filesystem::remove(path);
}

TEST(CApiThreads, CancelFromAnotherThreadStopsTheSampler) {
  Sample s;
  if (!s.ok()) GTEST_SKIP() << "HDF5 not compiled in";
  if (diffevent_has_torch() != 1) GTEST_SKIP() << "built without LibTorch";
  // Given a long deblur (1000 steps) running on a worker thread
  diffevent_context* ctx = nullptr;
  ASSERT_EQ(diffevent_context_create(nullptr, &ctx), DIFFEVENT_OK);
  CancelProbe probe;
  diffevent_deblur_params p;
  diffevent_deblur_params_init(&p);
  p.steps = 1000;
  p.progress = note_step;
  p.progress_user_data = &probe;
  diffevent_image* out = nullptr;
  diffevent_status status = -1;
  std::string message;
  std::atomic<bool> finished{false};
  std::thread worker([&] {
    status =
        diffevent_deblur(ctx, s.blurry, s.events, nullptr, nullptr, &p, &out, nullptr, nullptr);
    message = diffevent_last_error();
    finished.store(true);
  });
  // When this thread cancels once a few steps have run
  while (probe.steps.load() < 3 && !finished.load())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(diffevent_context_cancel(ctx), DIFFEVENT_OK);
  worker.join();
  // Then the run stops early with CANCELLED and no output
  EXPECT_EQ(status, DIFFEVENT_E_CANCELLED) << message;
  EXPECT_NE(message.find("cancel"), std::string::npos) << message;
  EXPECT_EQ(out, nullptr);
  EXPECT_LT(probe.steps.load(), 1000);
  // And the context refuses work until reset
  diffevent_image* edi = nullptr;
  EXPECT_EQ(diffevent_edi_deblur(ctx, s.blurry, s.events, nullptr, &edi), DIFFEVENT_E_CANCELLED);
  ASSERT_EQ(diffevent_context_reset_cancel(ctx), DIFFEVENT_OK);
  EXPECT_EQ(diffevent_edi_deblur(ctx, s.blurry, s.events, nullptr, &edi), DIFFEVENT_OK);
  diffevent_image_destroy(edi);
  diffevent_context_destroy(ctx);
}

}  // namespace
