// bench/world/relay.cc — world_relay: the benchmark world's "internet mode" (issue 12 §2,
// bench/README.md "Internet mode"). A UDP relay in front of the world's nsd servers that gives
// every zone key a round-trip time of its own, loses datagrams, and has a few slow and a few
// rate-limited keys, so that a scan through unbound meets the latencies of the internet instead
// of loopback's microseconds. The model (keys, delays, loss, limiter, timer wheel) is in
// relay_model.{h,cc}; this file owns the sockets, the outstanding-query table and the counters.
//
// Each --map LISTEN=UPSTREAM pair is a "link": a socket on LISTEN (port 53 unless given) that
// takes questions, and a socket bound to LISTEN:0 that forwards them to UPSTREAM under an ID of
// the relay's own (the slot of the link's 65,536-entry table that remembers the client's address
// and ID). The answer goes back to the client from the listening socket at (query arrival +
// RTT of the key), through one timer and a ring of 1 ms buckets for all delayed answers.
// Questions are read with ldns (the name); the ID and the QR/TC bits are header arithmetic.
//
// Counters go to the log on SIGUSR1 and at exit (SIGTERM, SIGINT), one line of key=value.
#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "bench/world/relay_model.h"
#include "scanner/c_ptr.h"
#include "scanner/loop/loop.h"

namespace {

namespace uvl = danescan::scanner::loop;
using danescan::bench::world::DelayWheel;
using danescan::bench::world::keyProfile;
using danescan::bench::world::KeyProfile;
using danescan::bench::world::LossDraw;
using danescan::bench::world::RateLimiter;
using danescan::bench::world::RelayParams;
using danescan::bench::world::zoneKey;

using RdfPtr = danescan::scanner::CPtr<ldns_rdf, &ldns_rdf_deep_free>;
using BufferPtr = danescan::scanner::CPtr<ldns_buffer, &ldns_buffer_free>;

constexpr size_t kRecvChunks = 20;       // datagrams per recvmmsg() at most (libuv's UV__MMSG_MAXWIDTH)
constexpr size_t kChunkSize = 65536;     // libuv's slice of the receive buffer per datagram
constexpr size_t kSlots = 65536;         // one per DNS ID, per link

// The relay's clock: CLOCK_MONOTONIC in whole ms. Not uv_now(), which is the time the loop
// iteration began (and may come from a coarse clock): an answer is due at a precise moment.
uint64_t nowMs() noexcept { return uv_hrtime() / 1'000'000; }

struct Mapping {
  sockaddr_in listen{};
  sockaddr_in upstream{};
  std::string text;
};

struct Args {
  std::vector<Mapping> maps;
  RelayParams params;
  uint32_t expire_ms = 5000;
  int sockbuf = 4 << 20;
  std::string pid_file;
  std::string log_file;
  bool classify = false;  // --classify: print the profile of each name on stdin, relay nothing
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "world_relay: %s\n"
               "usage: world_relay --map LISTEN[:PORT]=UPSTREAM[:PORT] [--map ...]\n"
               "         [--seed N] [--loss P] [--slow SHARE] [--slow-ms MS] [--ratelimit SHARE]\n"
               "         [--ratelimit-per-s N] [--rtt-fixed MS] [--rtt-median MS] [--rtt-sigma S]\n"
               "         [--rtt-min MS] [--rtt-max MS] [--expire-ms MS] [--sockbuf BYTES]\n"
               "         [--per-zone] [--slow-key KEY ...] [--ratelimit-key KEY ...]\n"
               "         [--pid-file PATH] [--log PATH]\n"
               "       world_relay --classify [options]   (names on stdin: NAME KEY RTT_MS slow|ratelimited|-)\n"
               "P and SHARE are fractions (0.01 = 1 %%); defaults: loss 0.01, slow 0.005 (2000 ms),\n"
               "ratelimit 0.005 (20 answers/s), RTT lognormal median 40 ms sigma 0.75 in 10-300 ms.\n",
               why.c_str());
  std::exit(2);
}

unsigned long number(const std::string& text, const std::string& what, unsigned long max) {
  char* end = nullptr;
  errno = 0;
  const unsigned long v = std::strtoul(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v > max) usage("bad value for " + what + ": " + text);
  return v;
}

double fraction(const std::string& text, const std::string& what, double max) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v >= 0 && v <= max)) usage("bad value for " + what + ": " + text);
  return v;
}

sockaddr_in endpoint(const std::string& text) {
  std::string host = text;
  unsigned port = 53;
  if (const size_t colon = text.rfind(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    port = static_cast<unsigned>(number(text.substr(colon + 1), "port in --map", 65535));
  }
  sockaddr_in a{};
  if (uv_ip4_addr(host.c_str(), static_cast<int>(port), &a) != 0) usage("not an IPv4 address in --map: " + text);
  return a;
}

Args parseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string opt = argv[i];
    if (opt == "--help" || opt == "-h") usage("help");
    if (opt == "--classify") {
      a.classify = true;
      continue;
    }
    if (opt == "--per-zone") {
      a.params.per_zone = true;
      continue;
    }
    if (i + 1 >= argc) usage("missing value after " + opt);
    const std::string v = argv[++i];
    RelayParams& p = a.params;
    if (opt == "--map") {
      const size_t eq = v.find('=');
      if (eq == std::string::npos) usage("--map takes LISTEN=UPSTREAM");
      a.maps.push_back({endpoint(v.substr(0, eq)), endpoint(v.substr(eq + 1)), v});
    } else if (opt == "--seed") {
      p.seed = number(v, opt, ~0UL);
    } else if (opt == "--loss") {
      p.loss = fraction(v, opt, 1);
    } else if (opt == "--slow") {
      p.slow_share = fraction(v, opt, 1);
    } else if (opt == "--slow-ms") {
      p.slow_ms = static_cast<uint32_t>(number(v, opt, 60000));
    } else if (opt == "--ratelimit") {
      p.ratelimit_share = fraction(v, opt, 1);
    } else if (opt == "--ratelimit-per-s") {
      p.ratelimit_per_s = static_cast<uint32_t>(number(v, opt, 1000000));
    } else if (opt == "--rtt-fixed") {
      p.rtt_fixed_ms = static_cast<uint32_t>(number(v, opt, 60000));
    } else if (opt == "--rtt-median") {
      p.rtt_median_ms = static_cast<uint32_t>(number(v, opt, 60000));
    } else if (opt == "--rtt-sigma") {
      p.rtt_sigma = fraction(v, opt, 5);
    } else if (opt == "--rtt-min") {
      p.rtt_min_ms = static_cast<uint32_t>(number(v, opt, 60000));
    } else if (opt == "--rtt-max") {
      p.rtt_max_ms = static_cast<uint32_t>(number(v, opt, 60000));
    } else if (opt == "--expire-ms") {
      a.expire_ms = static_cast<uint32_t>(number(v, opt, 600000));
    } else if (opt == "--sockbuf") {
      a.sockbuf = static_cast<int>(number(v, opt, 1 << 30));
    } else if (opt == "--slow-key") {
      p.slow_keys.push_back(v.empty() || v.back() == '.' ? v : v + ".");
    } else if (opt == "--ratelimit-key") {
      p.ratelimit_keys.push_back(v.empty() || v.back() == '.' ? v : v + ".");
    } else if (opt == "--pid-file") {
      a.pid_file = v;
    } else if (opt == "--log") {
      a.log_file = v;
    } else {
      usage("unknown option " + opt);
    }
  }
  if (a.maps.empty() && !a.classify) usage("at least one --map is needed");
  if (a.maps.size() > 255) usage("at most 255 --map");
  if (a.params.rtt_min_ms > a.params.rtt_max_ms) usage("--rtt-min is above --rtt-max");
  return a;
}

struct Counters {
  uint64_t client_in = 0, upstream_out = 0, upstream_in = 0, client_out = 0;
  uint64_t lost_query = 0, lost_answer = 0, ratelimited = 0, slow = 0, truncated = 0;
  uint64_t expired = 0, unmatched = 0, no_slot = 0, unparsed = 0, malformed = 0, send_errors = 0;
};

// One outstanding upstream query: what it takes to send its answer back.
struct Slot {
  sockaddr_in client{};
  uint64_t arrival_ms = 0;
  uint64_t key_hash = 0;
  uint32_t delay_ms = 0;
  uint16_t client_id = 0;
  bool used = false;
  bool slow = false;
  bool ratelimited = false;
};

// A delayed answer in the wheel; its bytes are in the relay's buffer pool.
struct Pending {
  sockaddr_in to{};
  uint32_t buffer = 0;
  uint16_t length = 0;
  uint8_t link = 0;
};

class Relay;

// handle->data of every UDP socket: which link, which side.
struct SocketTag {
  Relay* owner = nullptr;
  uint8_t link = 0;
  bool upstream = false;
};

struct Link {
  Mapping map;
  uvl::UdpPtr listen;
  uvl::UdpPtr upstream;
  SocketTag listen_tag;
  SocketTag upstream_tag;
  std::vector<Slot> slots = std::vector<Slot>(kSlots);
  uint16_t next_id = 0;
};

class Relay {
 public:
  Relay(uv_loop_t* loop, Args args, FILE* log)
      : loop_(loop),
        args_(std::move(args)),
        log_(log),
        loss_query_(args_.params.seed ^ 0x51, args_.params.loss),
        loss_answer_(args_.params.seed ^ 0xa2, args_.params.loss),
        limiter_(args_.params.ratelimit_per_s),
        wheel_(args_.params.maxDelayMs() + 1),
        recv_buffer_(kRecvChunks * kChunkSize),
        text_(ldns_buffer_new(LDNS_MAX_DOMAINLEN * 4 + 8)) {}

  // Opens every socket and starts the timers and signals; false with a message in the log.
  [[nodiscard]] bool start();
  void logCounters(const char* why);

 private:
  friend struct Callbacks;
  void onQuery(Link& link, uint8_t* data, size_t length, const sockaddr* from);
  void onAnswer(Link& link, uint8_t* data, size_t length, const sockaddr* from);
  void onTick();
  void onSweep();
  void onStop(int signum);
  void sendAnswer(uint8_t link, const uint8_t* data, size_t length, const sockaddr_in& to);
  [[nodiscard]] bool openSocket(uvl::UdpPtr& udp, SocketTag& tag, const sockaddr_in& bind_to, uint8_t link, bool upstream);
  std::string questionName(const uint8_t* data, size_t length);
  void log(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

  uv_loop_t* loop_;
  Args args_;
  FILE* log_;
  Counters counters_;
  std::vector<std::unique_ptr<Link>> links_;  // stable addresses: the tags point into them
  LossDraw loss_query_;
  LossDraw loss_answer_;
  RateLimiter limiter_;
  DelayWheel<Pending> wheel_;
  std::vector<std::vector<uint8_t>> pool_;  // answer bytes of the Pending entries
  std::vector<uint32_t> free_buffers_;
  std::vector<char> recv_buffer_;  // one for all sockets: libuv hands each batch out synchronously
  BufferPtr text_;                 // the question name's presentation text, reused
  uvl::TimerPtr tick_;             // the one timer of the delayed answers, 1 ms while any wait
  bool ticking_ = false;
  uvl::TimerPtr sweep_;  // once a second: expire upstream queries never answered
  uvl::SignalPtr usr1_, term_, intr_;
};

struct Callbacks {
  static void onAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) noexcept {
    auto* tag = static_cast<SocketTag*>(handle->data);
    if (tag == nullptr) {
      *buf = uv_buf_init(nullptr, 0);
      return;
    }
    auto& b = tag->owner->recv_buffer_;
    *buf = uv_buf_init(b.data(), static_cast<unsigned>(b.size()));
  }
  static void onRecv(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const sockaddr* from, unsigned flags) noexcept {
    auto* tag = static_cast<SocketTag*>(handle->data);
    if (tag == nullptr || (flags & UV_UDP_MMSG_FREE) != 0) return;
    if (nread <= 0 || from == nullptr || (flags & UV_UDP_PARTIAL) != 0) return;
    Link& link = *tag->owner->links_[tag->link];
    auto* data = reinterpret_cast<uint8_t*>(buf->base);
    if (tag->upstream) {
      tag->owner->onAnswer(link, data, static_cast<size_t>(nread), from);
    } else {
      tag->owner->onQuery(link, data, static_cast<size_t>(nread), from);
    }
  }
  static void onTick(uv_timer_t* t) noexcept {
    if (auto* r = static_cast<Relay*>(t->data)) r->onTick();
  }
  static void onSweep(uv_timer_t* t) noexcept {
    if (auto* r = static_cast<Relay*>(t->data)) r->onSweep();
  }
  static void onSignal(uv_signal_t* s, int signum) noexcept {
    auto* r = static_cast<Relay*>(s->data);
    if (r == nullptr) return;
    if (signum == SIGUSR1) {
      r->logCounters("SIGUSR1");
    } else {
      r->onStop(signum);
    }
  }
};

void Relay::log(const char* fmt, ...) {
  char stamp[32];
  const time_t now = time(nullptr);
  struct tm tm {};
  localtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::fprintf(log_, "%s world_relay[%d]: ", stamp, static_cast<int>(getpid()));
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(log_, fmt, ap);
  va_end(ap);
  std::fputc('\n', log_);
  std::fflush(log_);
}

bool Relay::openSocket(uvl::UdpPtr& udp, SocketTag& tag, const sockaddr_in& bind_to, uint8_t link, bool upstream) {
  int rc = 0;
  // UV_UDP_RECVMMSG: up to kRecvChunks datagrams per recvmmsg() into recv_buffer_.
  udp = uvl::makeUdp(loop_, AF_INET | UV_UDP_RECVMMSG, rc);
  char name[64];
  uv_ip4_name(&bind_to, name, sizeof name);
  if (!udp) {
    log("uv_udp_init_ex: %s", uv_strerror(rc));
    return false;
  }
  tag = SocketTag{this, link, upstream};
  udp->data = &tag;
  if ((rc = uv_udp_bind(udp.get(), reinterpret_cast<const sockaddr*>(&bind_to), 0)) != 0) {
    log("cannot bind %s:%d: %s", name, ntohs(bind_to.sin_port), uv_strerror(rc));
    return false;
  }
  // Bursts of a scan's questions: buffers of rmem_max size at least, past it as root.
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(udp.get()), &fd) == 0) {
    const int size = args_.sockbuf;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  }
  if ((rc = uv_udp_recv_start(udp.get(), Callbacks::onAlloc, Callbacks::onRecv)) != 0) {
    log("uv_udp_recv_start on %s: %s", name, uv_strerror(rc));
    return false;
  }
  return true;
}

bool Relay::start() {
  log("parameters: %s; upstream queries expire after %u ms", args_.params.describe().c_str(), args_.expire_ms);
  for (size_t i = 0; i < args_.maps.size(); ++i) {
    auto link = std::make_unique<Link>();
    link->map = args_.maps[i];
    link->next_id = static_cast<uint16_t>((args_.params.seed * 7919 + i * 12345) & 0xffff);
    links_.push_back(std::move(link));
    Link& l = *links_.back();
    sockaddr_in source = l.map.listen;
    source.sin_port = 0;
    if (!openSocket(l.listen, l.listen_tag, l.map.listen, static_cast<uint8_t>(i), false) ||
        !openSocket(l.upstream, l.upstream_tag, source, static_cast<uint8_t>(i), true)) {
      return false;
    }
    log("link %zu: %s", i, l.map.text.c_str());
  }
  int rc = 0;
  tick_ = uvl::makeTimer(loop_, rc);
  sweep_ = uvl::makeTimer(loop_, rc);
  usr1_ = uvl::makeSignal(loop_, rc);
  term_ = uvl::makeSignal(loop_, rc);
  intr_ = uvl::makeSignal(loop_, rc);
  if (!tick_ || !sweep_ || !usr1_ || !term_ || !intr_) {
    log("libuv handles: %s", uv_strerror(rc));
    return false;
  }
  tick_->data = sweep_->data = this;
  usr1_->data = term_->data = intr_->data = this;
  uv_timer_start(sweep_.get(), Callbacks::onSweep, 1000, 1000);
  uv_unref(reinterpret_cast<uv_handle_t*>(sweep_.get()));
  uv_signal_start(usr1_.get(), Callbacks::onSignal, SIGUSR1);
  uv_signal_start(term_.get(), Callbacks::onSignal, SIGTERM);
  uv_signal_start(intr_.get(), Callbacks::onSignal, SIGINT);
  return true;
}

std::string Relay::questionName(const uint8_t* data, size_t length) {
  if (LDNS_QDCOUNT(data) == 0) return {};
  ldns_rdf* raw = nullptr;
  size_t pos = LDNS_HEADER_SIZE;
  if (ldns_wire2dname(&raw, data, length, &pos) != LDNS_STATUS_OK) return {};
  RdfPtr name(raw);
  ldns_dname2canonical(name.get());
  ldns_buffer_clear(text_.get());
  if (ldns_rdf2buffer_str_dname(text_.get(), name.get()) != LDNS_STATUS_OK) return {};
  return std::string(reinterpret_cast<const char*>(ldns_buffer_begin(text_.get())), ldns_buffer_position(text_.get()));
}

void Relay::onQuery(Link& link, uint8_t* data, size_t length, const sockaddr* from) {
  ++counters_.client_in;
  if (length < LDNS_HEADER_SIZE || from->sa_family != AF_INET || LDNS_QR_WIRE(data)) {
    ++counters_.malformed;
    return;
  }
  if (loss_query_.drop()) {
    ++counters_.lost_query;
    return;
  }
  const std::string name = questionName(data, length);
  if (name.empty()) ++counters_.unparsed;  // forwarded all the same, with the root's profile
  const auto profile = keyProfile(name.empty() ? std::string(1, '.') : zoneKey(name, args_.params.per_zone), args_.params);
  // Rounded up: the answer leaves at arrival + RTT or later, never a fraction of a ms early.
  const uint64_t now = (uv_hrtime() + 999'999) / 1'000'000;
  // The next free ID of this link; one still waiting past the expiry is taken over.
  Slot* slot = nullptr;
  uint16_t id = 0;
  for (size_t tries = 0; tries < kSlots; ++tries) {
    id = link.next_id++;
    Slot& s = link.slots[id];
    if (!s.used) {
      slot = &s;
      break;
    }
    if (s.arrival_ms + args_.expire_ms < now) {  // not now - arrival: arrival is rounded up
      ++counters_.expired;
      slot = &s;
      break;
    }
  }
  if (slot == nullptr) {
    ++counters_.no_slot;
    return;
  }
  *slot = Slot{*reinterpret_cast<const sockaddr_in*>(from), now, profile.hash, profile.rtt_ms, LDNS_ID_WIRE(data), true, profile.slow, profile.ratelimited};
  ldns_write_uint16(data, id);
  uv_buf_t b = uv_buf_init(reinterpret_cast<char*>(data), static_cast<unsigned>(length));
  const int rc = uv_udp_try_send(link.upstream.get(), &b, 1, reinterpret_cast<const sockaddr*>(&link.map.upstream));
  if (rc < 0) {
    ++counters_.send_errors;
    slot->used = false;
    return;
  }
  ++counters_.upstream_out;
}

void Relay::onAnswer(Link& link, uint8_t* data, size_t length, const sockaddr* from) {
  ++counters_.upstream_in;
  const auto* from4 = reinterpret_cast<const sockaddr_in*>(from);
  if (length < LDNS_HEADER_SIZE || from->sa_family != AF_INET || from4->sin_addr.s_addr != link.map.upstream.sin_addr.s_addr ||
      from4->sin_port != link.map.upstream.sin_port || !LDNS_QR_WIRE(data)) {
    ++counters_.malformed;
    return;
  }
  Slot& slot = link.slots[LDNS_ID_WIRE(data)];
  if (!slot.used) {
    ++counters_.unmatched;  // answered after its entry expired, or twice
    return;
  }
  slot.used = false;
  if (LDNS_TC_WIRE(data)) ++counters_.truncated;
  if (loss_answer_.drop()) {
    ++counters_.lost_answer;
    return;
  }
  const uint64_t now = nowMs();
  if (slot.ratelimited && !limiter_.allow(slot.key_hash, now)) {
    ++counters_.ratelimited;
    return;
  }
  if (slot.slow) ++counters_.slow;
  ldns_write_uint16(data, slot.client_id);
  const uint64_t due = slot.arrival_ms + slot.delay_ms;
  if (due <= now) {
    sendAnswer(link.listen_tag.link, data, length, slot.client);
    return;
  }
  uint32_t index = 0;
  if (free_buffers_.empty()) {
    index = static_cast<uint32_t>(pool_.size());
    pool_.emplace_back();
  } else {
    index = free_buffers_.back();
    free_buffers_.pop_back();
  }
  pool_[index].assign(data, data + length);
  wheel_.schedule(now, due, Pending{slot.client, index, static_cast<uint16_t>(length), link.listen_tag.link});
  if (!ticking_) {
    uv_timer_start(tick_.get(), Callbacks::onTick, 1, 1);
    ticking_ = true;
  }
}

void Relay::sendAnswer(uint8_t link, const uint8_t* data, size_t length, const sockaddr_in& to) {
  uv_buf_t b = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(data)), static_cast<unsigned>(length));
  if (uv_udp_try_send(links_[link]->listen.get(), &b, 1, reinterpret_cast<const sockaddr*>(&to)) < 0) {
    ++counters_.send_errors;
  } else {
    ++counters_.client_out;
  }
}

void Relay::onTick() {
  wheel_.advance(nowMs(), [this](Pending& p) {
    sendAnswer(p.link, pool_[p.buffer].data(), p.length, p.to);
    free_buffers_.push_back(p.buffer);
  });
  if (wheel_.empty()) {
    uv_timer_stop(tick_.get());
    ticking_ = false;
  }
}

void Relay::onSweep() {
  const uint64_t now = nowMs();
  for (auto& link : links_) {
    for (Slot& s : link->slots) {
      if (s.used && s.arrival_ms + args_.expire_ms < now) {
        s.used = false;
        ++counters_.expired;
      }
    }
  }
}

void Relay::logCounters(const char* why) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  const Counters& c = counters_;
  const uint64_t packets = c.client_in + c.upstream_out + c.upstream_in + c.client_out;
  log("counters (%s): client_in=%lu upstream_out=%lu upstream_in=%lu client_out=%lu packets=%lu lost_query=%lu "
      "lost_answer=%lu ratelimited=%lu slow=%lu truncated=%lu expired=%lu unmatched=%lu no_slot=%lu unparsed=%lu "
      "malformed=%lu send_errors=%lu pending=%zu cpu_user_s=%.3f cpu_sys_s=%.3f",
      why, c.client_in, c.upstream_out, c.upstream_in, c.client_out, packets, c.lost_query, c.lost_answer, c.ratelimited,
      c.slow, c.truncated, c.expired, c.unmatched, c.no_slot, c.unparsed, c.malformed, c.send_errors, wheel_.size(),
      seconds(ru.ru_utime), seconds(ru.ru_stime));
  if (c.truncated != 0) {
    log("warning: %lu truncated answers (TC) passed on: the relay carries UDP only, so the client's retry over TCP "
        "reaches no server",
        c.truncated);
  }
}

void Relay::onStop(int signum) {
  logCounters(signum == SIGTERM ? "SIGTERM" : "SIGINT");
  // Closing every handle ends uv_run; the delayed answers still in the wheel are dropped.
  links_.clear();
  tick_.reset();
  sweep_.reset();
  usr1_.reset();
  term_.reset();
  intr_.reset();
}

}  // namespace

// --classify: what the relay would do with each name (bench/scan.sh tells the domains behind a
// slow or rate-limited server from the others with it). Absolute or not, one per line.
int classify(const RelayParams& params) {
  char line[1024];
  while (std::fgets(line, sizeof line, stdin) != nullptr) {
    std::string name(line);
    while (!name.empty() && (name.back() == '\n' || name.back() == '\r' || name.back() == ' ')) name.pop_back();
    if (name.empty()) continue;
    if (name.back() != '.') name += '.';
    const std::string key = zoneKey(name, params.per_zone);
    const KeyProfile k = keyProfile(key, params);
    std::printf("%s %s %u %s\n", name.c_str(), key.c_str(), k.rtt_ms, k.slow ? "slow" : k.ratelimited ? "ratelimited" : "-");
  }
  return std::ferror(stdin) ? 1 : 0;
}

int main(int argc, char** argv) {
  Args args = parseArgs(argc, argv);
  if (args.classify) return classify(args.params);
  FILE* log = stderr;
  if (!args.log_file.empty()) {
    log = std::fopen(args.log_file.c_str(), "a");
    if (log == nullptr) {
      std::fprintf(stderr, "world_relay: cannot open %s: %s\n", args.log_file.c_str(), std::strerror(errno));
      return 1;
    }
  }
  const std::string pid_file = args.pid_file;
  int rc = 0;
  {
    uvl::Loop loop;
    {
      Relay relay(loop.get(), std::move(args), log);
      if (!relay.start()) {
        rc = 1;
      } else {
        // Written once every socket is bound: its existence says the relay is ready.
        if (!pid_file.empty()) {
          FILE* f = std::fopen(pid_file.c_str(), "w");
          if (f == nullptr || std::fprintf(f, "%d\n", static_cast<int>(getpid())) < 0 || std::fclose(f) != 0) {
            std::fprintf(log, "world_relay: cannot write %s\n", pid_file.c_str());
            return 1;
          }
        }
        loop.run();
      }
    }
  }
  if (!pid_file.empty() && rc == 0) std::remove(pid_file.c_str());
  if (log != stderr) std::fclose(log);
  return rc;
}
