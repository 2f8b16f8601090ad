// scanner/pipeline/domain_source.h — where the Scanner takes its domains from.
//
// inputs::DomainStream reads with blocking calls (gzread). On the loop thread, a list that is slow
// to arrive (a pipe from a generator, a network file system) stopped the whole loop: answers sat
// in the sockets while the queries' timers expired, so queries were retried or recorded as
// TIMEOUT, with an elapsed time that was the list's, not the resolver's. DomainFeed reads the
// list on a thread of its own, a bounded number of entries ahead of the scan (memory stays flat),
// and wakes the loop through a uv_async_t when the scan waits for the next entry.
#pragma once

#include <uv.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "inputs/domain_stream.h"
#include "scanner/loop/loop.h"

namespace danescan::scanner::pipeline {

class DomainSource {
 public:
  enum class Take {
    Entry,  // `out` holds the next domain
    Later,  // none is ready yet: the ready callback runs on the loop when one is, or at the end
    End,    // no more domains
  };
  virtual ~DomainSource() = default;
  // Loop thread only.
  [[nodiscard]] virtual Take take(inputs::DomainEntry& out) = 0;
  // The callback for Later; empty to stop being called (the consumer is going away).
  virtual void setOnReady(std::function<void()> ready) = 0;
};

// A DomainStream read on the calling thread: never Later. For lists that cannot stall (tests,
// lists in memory).
class StreamSource final : public DomainSource {
 public:
  explicit StreamSource(inputs::DomainStream& stream) : stream_(stream) {}
  [[nodiscard]] Take take(inputs::DomainEntry& out) override { return stream_.next(out) ? Take::Entry : Take::End; }
  void setOnReady(std::function<void()>) override {}

 private:
  inputs::DomainStream& stream_;
};

// The stream read on a thread of its own, at most `ahead` entries ahead of take().
class DomainFeed final : public DomainSource {
 public:
  static constexpr size_t kDefaultAhead = 4096;

  // Opens the lists (inputs::DomainStream) and starts reading. `loop` must outlive the feed; the
  // stream's on_error callback runs on the reading thread.
  DomainFeed(uv_loop_t* loop, inputs::StreamOptions options, size_t ahead = kDefaultAhead);
  ~DomainFeed() override;  // close()
  DomainFeed(const DomainFeed&) = delete;
  DomainFeed& operator=(const DomainFeed&) = delete;

  [[nodiscard]] Take take(inputs::DomainEntry& out) override;
  void setOnReady(std::function<void()> ready) override;

  // Stops reading and closes the loop handle, so that the loop can end; take() answers End
  // afterwards. A reader blocked in a read (a pipe that says nothing) cannot be interrupted: it
  // is left to end with the process, and keeps only its own state alive.
  void close();

  // The stream's counters as of the last entry read: final once take() answered End.
  [[nodiscard]] inputs::StreamStats stats() const;
  // Per source: content hash and counts (inputs::SourceStats), taken by the reader when the
  // stream ends or the feed is closed; so after End, or after close() once the reader has
  // stopped. A reader left blocked in a read gives one entry per source with nothing read.
  [[nodiscard]] std::vector<inputs::SourceStats> sources() const;

  // How many names take() hands out in all, once known: the reader counts them with a second
  // pass over the lists (the same filters: shard, duplicates, exclude), in the time it would
  // otherwise wait for room ahead of the scan, so the scan never waits for the count. Never known
  // when a list is standard input ("-"), which cannot be read twice.
  [[nodiscard]] std::optional<uint64_t> total() const;

 private:
  struct Shared;
  static void read(const std::shared_ptr<Shared>& shared);

  std::shared_ptr<Shared> shared_;
  loop::HandlePtr<uv_async_t> async_;
  std::function<void()> ready_;
  std::thread reader_;
};

}  // namespace danescan::scanner::pipeline
