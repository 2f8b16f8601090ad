// DomainFeed: the list read on a thread of its own, so that the loop runs on while a list is
// slow to arrive (scanner/pipeline/domain_source.h).
#include "scanner/pipeline/domain_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "scanner/loop/loop.h"
#include "tests/unit/inputs/list_files.h"

namespace danescan::scanner::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

// Takes every entry the way the Scanner does: until Later, then again when the feed calls back.
struct Consumer {
  explicit Consumer(DomainFeed& f) : feed(f) {
    feed.setOnReady([this] { drain(); });
  }
  ~Consumer() { feed.setOnReady({}); }
  void drain() {
    for (;;) {
      inputs::DomainEntry entry;
      const DomainSource::Take taken = feed.take(entry);
      if (taken == DomainSource::Take::Later) {
        ++laters;
        return;
      }
      if (taken == DomainSource::Take::End) {
        ended = true;
        feed.close();  // lets the loop end
        return;
      }
      names.push_back(entry.name);
      lines.push_back(entry.line);
    }
  }
  DomainFeed& feed;
  std::vector<std::string> names;
  std::vector<uint64_t> lines;
  int laters = 0;
  bool ended = false;
};

std::string tempList(int n) {
  char tmpl[] = "/tmp/domain-feed-test-XXXXXX";
  const int fd = mkstemp(tmpl);
  EXPECT_GE(fd, 0);
  ::close(fd);
  std::ofstream out(tmpl);
  for (int i = 0; i < n; ++i) out << "Name" << i << ".Test.\n";
  return tmpl;
}

TEST(DomainFeed, DeliversEveryNameInOrderThroughASmallWindow) {
  constexpr int kNames = 10000;
  const std::string path = tempList(kNames);
  loop::Loop loop;
  inputs::StreamOptions options;
  options.sources = {path};
  // 64 ahead: the reader fills the window and waits for room about 300 times.
  DomainFeed feed(loop.get(), options, 64);
  Consumer consumer(feed);
  consumer.drain();
  loop.run();
  std::remove(path.c_str());

  ASSERT_TRUE(consumer.ended);
  ASSERT_EQ(consumer.names.size(), static_cast<size_t>(kNames));
  for (int i = 0; i < kNames; ++i) {
    ASSERT_EQ(consumer.names[i], "name" + std::to_string(i) + ".test");  // normalised by the stream
    ASSERT_EQ(consumer.lines[i], static_cast<uint64_t>(i + 1));
  }
  EXPECT_EQ(feed.stats().accepted, static_cast<uint64_t>(kNames));
  EXPECT_EQ(feed.stats().lines, static_cast<uint64_t>(kNames));
}

// A pipe whose writer pauses: the loop's own timer must keep firing during the pauses (with the
// list read on the loop thread it stood still, and a scan's query timers expired with it). The
// names come at the end: gzread() returns a pipe's bytes only once its buffer is full or at EOF.
TEST(DomainFeed, TheLoopRunsOnWhileAPipeIsSilent) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::thread writer([fd = fds[1]] {
    for (const char* line : {"a.test\n", "b.test\n", "c.test\n"}) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      EXPECT_GT(::write(fd, line, std::char_traits<char>::length(line)), 0);
    }
    ::close(fd);
  });

  loop::Loop loop;
  inputs::StreamOptions options;
  options.sources = {"/proc/self/fd/" + std::to_string(fds[0])};
  DomainFeed feed(loop.get(), options);
  Consumer consumer(feed);

  int ticks = 0;
  int error = 0;
  auto ticker = loop::makeTimer(loop.get(), error);
  ASSERT_TRUE(ticker);
  struct Context {
    int* ticks;
    Consumer* consumer;
  } context{&ticks, &consumer};
  ticker->data = &context;
  uv_timer_start(
      ticker.get(),
      [](uv_timer_t* t) {
        auto* c = static_cast<Context*>(t->data);
        ++*c->ticks;
        if (c->consumer->ended) uv_timer_stop(t);
      },
      10, 10);
  consumer.drain();
  loop.run();
  writer.join();
  ::close(fds[0]);

  ASSERT_TRUE(consumer.ended);
  EXPECT_EQ(consumer.names, (std::vector<std::string>{"a.test", "b.test", "c.test"}));
  EXPECT_GE(consumer.laters, 1);  // it waited (zlib hands a pipe's bytes over in full buffers or at EOF)
  // About 90 ticks in the 900 ms the writer took; a loop blocked in the read would see 3 or 4.
  EXPECT_GE(ticks, 30);
}

// close() while the reader is blocked in a read of a silent pipe: it must not wait for the read,
// which here ends only when the pipe's writer closes it, 2 s later.
TEST(DomainFeed, CloseDoesNotWaitForABlockedRead) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::thread writer([fd = fds[1]] {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    ::close(fd);  // end of file: the reader left behind ends
  });
  loop::Loop loop;
  inputs::StreamOptions options;
  options.sources = {"/proc/self/fd/" + std::to_string(fds[0])};
  {
    DomainFeed feed(loop.get(), options);
    inputs::DomainEntry entry;
    EXPECT_EQ(feed.take(entry), DomainSource::Take::Later);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the reader is in its read
    const auto start = Clock::now();
    feed.close();
    // Waiting for the read would take until the writer closes, about 1.9 s from here.
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(1));
    EXPECT_EQ(feed.take(entry), DomainSource::Take::End);
  }
  writer.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the reader reads EOF and ends
  ::close(fds[0]);
}

// Issue 11: the total for the progress line is counted on the reader thread, with the stream's
// filters (a gzip CSV list with a header, bad lines and duplicates here), while the scan has
// taken nothing yet: the reader counts in the time it waits for room.
TEST(DomainFeed, CountsTheNamesOfAFileListOnTheReaderThread) {
  inputs::testing::ListFiles files;
  std::string csv = "rank,domain\n";
  for (int i = 1; i <= 3000; ++i) csv += std::to_string(i) + ",name" + std::to_string(i) + ".test\n";
  csv += "3001,name7.test\n3002,not a name\n";  // a duplicate and an invalid line
  const std::string path = files.writeGzip("list.csv.gz", csv);
  loop::Loop loop;
  inputs::StreamOptions options;
  options.sources = {path};
  options.on_error = [](const inputs::ListError&) {};
  DomainFeed feed(loop.get(), options, 64);
  // Nothing taken: a bounded wait for the reader (a hang fails, a slow machine not).
  for (int i = 0; i < 2000 && !feed.total(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(feed.total());
  EXPECT_EQ(*feed.total(), 3000u);
  EXPECT_LT(feed.stats().lines, 3000u);  // the list itself was read only 64 names ahead
  Consumer consumer(feed);
  consumer.drain();
  loop.run();
  ASSERT_TRUE(consumer.ended);
  EXPECT_EQ(consumer.names.size(), 3000u);
}

TEST(DomainFeed, NoTotalForStandardInput) {
  loop::Loop loop;
  inputs::StreamOptions options;
  options.sources = {"-"};
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const int saved = dup(STDIN_FILENO);
  dup2(fds[0], STDIN_FILENO);
  ::close(fds[0]);
  ASSERT_EQ(write(fds[1], "a.test\nb.test\n", 14), 14);
  ::close(fds[1]);
  {
    DomainFeed feed(loop.get(), options, 64);
    Consumer consumer(feed);
    consumer.drain();
    loop.run();
    EXPECT_TRUE(consumer.ended);
    EXPECT_EQ(consumer.names.size(), 2u);
    EXPECT_FALSE(feed.total());
  }
  dup2(saved, STDIN_FILENO);
  ::close(saved);
}

}  // namespace
}  // namespace danescan::scanner::pipeline
