// scanner/pipeline/domain_source.cc — the list read off the loop thread (see domain_source.h).
#include "scanner/pipeline/domain_source.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>

namespace danescan::scanner::pipeline {

// What the feed (loop thread) and its reader share. The reader holds it too, so that a reader
// left blocked in a read by close() never touches freed memory.
struct DomainFeed::Shared {
  explicit Shared(inputs::StreamOptions o, size_t a) : options(std::move(o)), ahead(a) {}

  const inputs::StreamOptions options;  // the reader opens the stream with them
  const size_t ahead;

  mutable std::mutex mutex;
  std::condition_variable space;          // the reader waits here while `ready` is full
  std::condition_variable exited;         // close() waits here a moment for the reader to end
  std::deque<inputs::DomainEntry> ready;  // read, not yet taken
  inputs::StreamStats stats;              // the stream's, after the last entry read
  std::vector<inputs::SourceStats> sources;  // the stream's, when the reader stopped
  bool end = false;                       // the stream has no more
  bool closing = false;                   // close(): the reader stops at its next step
  bool waiting = false;                   // take() answered Later: wake the loop on news
  bool reader_done = false;
  std::optional<uint64_t> total;          // names in all, once the counting pass ended
  uv_async_t* async = nullptr;            // valid while !closing
};

DomainFeed::DomainFeed(uv_loop_t* loop, inputs::StreamOptions options, size_t ahead)
    : shared_(std::make_shared<Shared>(std::move(options), ahead == 0 ? 1 : ahead)) {
  auto* async = new uv_async_t{};
  if (const int rc = uv_async_init(loop, async, [](uv_async_t* handle) {
        auto* self = static_cast<DomainFeed*>(handle->data);
        if (self != nullptr && self->ready_) self->ready_();
      });
      rc != 0) {
    std::fprintf(stderr, "danescan: uv_async_init: %s\n", uv_strerror(rc));
    std::abort();  // start-up failure on a live loop: cannot happen short of out-of-memory
  }
  async->data = this;
  async_.reset(async);
  shared_->async = async;
  // The reader runs with every signal blocked (it inherits this thread's mask): SIGINT must
  // reach the loop's handler, not interrupt a read of the list, which zlib would take for a
  // read error and the stream for the list's end.
  sigset_t all;
  sigset_t before;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &before);
  reader_ = std::thread(read, shared_);
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

DomainFeed::~DomainFeed() { close(); }

namespace {

// Counting as many names per step as keeps the reader quick to refill the queue.
constexpr int kCountStep = 2048;

bool countable(const inputs::StreamOptions& options) {
  return !options.sources.empty() &&
         std::none_of(options.sources.begin(), options.sources.end(), [](const std::string& s) { return s == "-"; });
}

}  // namespace

void DomainFeed::read(const std::shared_ptr<Shared>& s) {
  inputs::DomainStream stream(s->options);  // opened here: even opening a list may block
  // The counting pass: the same lists and filters, silent (the main stream reports bad lines).
  std::unique_ptr<inputs::DomainStream> counter;
  if (countable(s->options)) {
    inputs::StreamOptions quiet = s->options;
    quiet.on_error = [](const inputs::ListError&) {};
    counter = std::make_unique<inputs::DomainStream>(std::move(quiet));
  }
  inputs::DomainEntry entry;
  inputs::DomainEntry counted;
  std::unique_lock lock(s->mutex, std::defer_lock);
  for (;;) {
    const bool more = stream.next(entry);  // blocks while a pipe has nothing to say
    lock.lock();
    if (s->closing) break;
    s->stats = stream.stats();
    if (more) {
      s->ready.push_back(std::move(entry));
    } else {
      s->end = true;
    }
    if (s->waiting) {
      s->waiting = false;
      uv_async_send(s->async);  // the one libuv call that is safe from another thread
    }
    if (!more) break;
    // The queue is full: count while the scan catches up, a step at a time.
    while (counter && !s->closing && s->ready.size() >= s->ahead) {
      lock.unlock();
      bool ended = false;
      for (int i = 0; i < kCountStep; ++i) {
        if (!counter->next(counted)) {
          ended = true;
          break;
        }
      }
      lock.lock();
      if (ended) {
        s->total = counter->stats().accepted;
        counter.reset();
      }
    }
    s->space.wait(lock, [&] { return s->closing || s->ready.size() < s->ahead; });
    if (s->closing) break;
    lock.unlock();
  }
  // The list was read before the count ended (it is short, or the scan is fast): its count is
  // the main stream's.
  if (counter && s->end && !s->closing) s->total = s->stats.accepted;
  // The lock is held on every way out of the loop. Hashing stays on this thread: the copy of
  // the digest that sources() finalises is cheap, but not for the loop to wait on.
  s->sources = stream.sources();
  s->reader_done = true;
  s->exited.notify_all();
}

DomainSource::Take DomainFeed::take(inputs::DomainEntry& out) {
  std::lock_guard lock(shared_->mutex);
  if (!shared_->ready.empty()) {
    out = std::move(shared_->ready.front());
    shared_->ready.pop_front();
    // Half empty: let the reader fill up again (it sleeps only when the queue is full).
    if (shared_->ready.size() <= shared_->ahead / 2) shared_->space.notify_one();
    return Take::Entry;
  }
  if (shared_->end || shared_->closing) return Take::End;
  shared_->waiting = true;
  return Take::Later;
}

void DomainFeed::setOnReady(std::function<void()> ready) { ready_ = std::move(ready); }

void DomainFeed::close() {
  if (!async_) return;
  std::unique_lock lock(shared_->mutex);
  shared_->closing = true;
  shared_->async = nullptr;
  shared_->ready.clear();
  shared_->space.notify_all();
  // A reader between two entries of a file ends at once; one blocked in a read of a pipe does
  // not, and is left behind rather than hang the scan's exit.
  const bool done = shared_->exited.wait_for(lock, std::chrono::milliseconds(200), [&] { return shared_->reader_done; });
  lock.unlock();
  if (done) {
    reader_.join();
  } else {
    reader_.detach();
  }
  async_.reset();  // closed through the loop (data cleared first)
}

std::optional<uint64_t> DomainFeed::total() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->total;
}

inputs::StreamStats DomainFeed::stats() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->stats;
}

std::vector<inputs::SourceStats> DomainFeed::sources() const {
  std::lock_guard lock(shared_->mutex);
  if (shared_->reader_done) return shared_->sources;
  std::vector<inputs::SourceStats> unread;
  for (const auto& path : shared_->options.sources) {
    inputs::SourceStats nothing;
    nothing.source = path;
    unread.push_back(std::move(nothing));
  }
  return unread;
}

}  // namespace danescan::scanner::pipeline
