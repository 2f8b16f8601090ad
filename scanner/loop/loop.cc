// scanner/loop/loop.cc — the loop, handle factories and deferred calls (see loop.h).
#include "scanner/loop/loop.h"

#include <cstdio>
#include <cstdlib>

namespace danescan::scanner::loop {

Loop::Loop() {
  if (const int rc = uv_loop_init(&loop_); rc != 0) {
    // Start-up failure: nothing can run without a loop.
    std::fprintf(stderr, "danescan: uv_loop_init: %s\n", uv_strerror(rc));
    std::abort();
  }
}

Loop::~Loop() {
  // Close callbacks of handles closed by destructors that ran just before this one.
  uv_run(&loop_, UV_RUN_NOWAIT);
  if (uv_loop_close(&loop_) == UV_EBUSY) {
    // A handle outlives its loop: an ownership bug. Name what is left and stop, rather than free
    // memory libuv still points to.
    uv_walk(
        &loop_,
        [](uv_handle_t* h, void*) { std::fprintf(stderr, "danescan: open libuv handle at loop end: %s\n", uv_handle_type_name(h->type)); },
        nullptr);
    std::abort();
  }
}

void Loop::run() noexcept { uv_run(&loop_, UV_RUN_DEFAULT); }

TimerPtr makeTimer(uv_loop_t* loop, int& error) {
  auto* timer = new uv_timer_t{};
  error = uv_timer_init(loop, timer);
  if (error != 0) {
    delete timer;
    return nullptr;
  }
  return TimerPtr(timer);
}

UdpPtr makeUdp(uv_loop_t* loop, unsigned flags, int& error) {
  auto* udp = new uv_udp_t{};
  error = uv_udp_init_ex(loop, udp, flags);
  if (error != 0) {
    delete udp;
    return nullptr;
  }
  return UdpPtr(udp);
}

SignalPtr makeSignal(uv_loop_t* loop, int& error) {
  auto* signal = new uv_signal_t{};
  error = uv_signal_init(loop, signal);
  if (error != 0) {
    delete signal;
    return nullptr;
  }
  return SignalPtr(signal);
}

namespace {

// The timer and the call it carries; freed in the timer's close callback.
struct Deferred {
  uv_timer_t timer;  // first member: CloseThenFree casts the block to its handle
  std::function<void()>* fn;
};

void onDeferred(uv_timer_t* timer) noexcept {
  auto* block = reinterpret_cast<Deferred*>(timer);
  std::unique_ptr<std::function<void()>> fn(block->fn);
  block->fn = nullptr;
  CloseThenFree<Deferred>{}(block);
  try {
    (*fn)();
  } catch (...) {
    // Nothing may unwind through libuv's C frames.
  }
}

}  // namespace

int deferCall(uv_loop_t* loop, std::function<void()> fn) {
  auto* block = new Deferred{};
  if (const int rc = uv_timer_init(loop, &block->timer); rc != 0) {
    delete block;
    return rc;
  }
  block->fn = new std::function<void()>(std::move(fn));
  if (const int rc = uv_timer_start(&block->timer, onDeferred, 0, 0); rc != 0) {
    delete block->fn;
    CloseThenFree<Deferred>{}(block);
    return rc;
  }
  return 0;
}

}  // namespace danescan::scanner::loop
