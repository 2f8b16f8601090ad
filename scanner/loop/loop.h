// scanner/loop/loop.h — thin RAII over libuv. Owns the uv_loop_t (Loop) and the memory of libuv
// handles (HandlePtr). libuv may touch a handle until its close callback has run, so a handle's
// memory is never freed by its owner directly: the owner closes it and the close callback frees
// it, in a later loop iteration (uvw handle.hpp, Envoy deferred deletion).
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <type_traits>

namespace danescan::scanner::loop {

// The event loop. Its destructor runs one non-blocking iteration so that the close callbacks of
// handles closed just before (by their owners' destructors) run and free their memory.
class Loop {
 public:
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  [[nodiscard]] uv_loop_t* get() noexcept { return &loop_; }
  // uv_run(UV_RUN_DEFAULT): until no active handle or request is left.
  void run() noexcept;

 private:
  uv_loop_t loop_{};
};

// Deleter for a heap block whose first member is a libuv handle (the block may hold a handle
// alone, or a handle plus requests that must live as long as it). It clears handle->data, so a
// callback that still fires (a cancelled request) can tell that the owner is gone, and frees the
// block in the close callback.
template <class Block>
struct CloseThenFree {
  static_assert(std::is_standard_layout_v<Block>, "the handle must be the block's first member");
  void operator()(Block* block) const noexcept {
    auto* handle = reinterpret_cast<uv_handle_t*>(block);
    handle->data = nullptr;
    uv_close(handle, [](uv_handle_t* closed) { delete reinterpret_cast<Block*>(closed); });
  }
};

// Only ever holds an initialised handle: uv_close on one that was never initialised is undefined.
template <class Block>
using HandlePtr = std::unique_ptr<Block, CloseThenFree<Block>>;

using TimerPtr = HandlePtr<uv_timer_t>;
using UdpPtr = HandlePtr<uv_udp_t>;
using SignalPtr = HandlePtr<uv_signal_t>;

// Initialised handles, or null with the libuv error in `error` (the block is freed directly then,
// because an uninitialised handle must not be closed).
[[nodiscard]] TimerPtr makeTimer(uv_loop_t* loop, int& error);
[[nodiscard]] UdpPtr makeUdp(uv_loop_t* loop, unsigned flags, int& error);
[[nodiscard]] SignalPtr makeSignal(uv_loop_t* loop, int& error);

template <class Block>
[[nodiscard]] HandlePtr<Block> makeTcpBlock(uv_loop_t* loop, int& error) {
  auto* block = new Block{};
  error = uv_tcp_init(loop, reinterpret_cast<uv_tcp_t*>(block));
  if (error != 0) {
    delete block;
    return nullptr;
  }
  return HandlePtr<Block>(block);
}

// Calls `fn` from the loop in a later iteration, owning nothing but itself: used to report a
// result without calling back from inside the caller's own call (no re-entrancy). `fn` must not
// throw; an exception is caught and dropped at the C boundary. Returns the libuv error, 0 on
// success; on failure `fn` is not called.
[[nodiscard]] int deferCall(uv_loop_t* loop, std::function<void()> fn);

}  // namespace danescan::scanner::loop
