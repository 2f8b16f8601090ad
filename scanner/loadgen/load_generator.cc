// scanner/loadgen/load_generator.cc — see load_generator.h. Lifetime: the sockets and the tick
// timer are libuv handles, closed (and later freed by their close callbacks, loop.h) when the run
// ends or the generator is destroyed; the slots and the expiry queue are plain memory.
#include "scanner/loadgen/load_generator.h"

#include "scanner/loadgen/schedule.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace danescan::scanner::loadgen {
namespace {

// libuv reads at most 32 datagrams per socket per loop iteration (its guard against starving
// the loop; with recvmmsg, two calls of up to 20), while a tick sends everything that fell due:
// on a busy machine, where an iteration can take milliseconds, too few sockets let the answers
// pile up in their receive buffers and the client, not the resolver, would set the latency
// (seen here: 8 sockets, ~190 iterations/s under load, reading capped near 50,000 answers/s).
// 16 sockets read up to 640 answers per iteration; each holds 65,536 slots (4 MiB).
constexpr unsigned kDefaultSockets = 16;
constexpr size_t kRecvChunks = 20;  // datagrams per recvmmsg() at most (64 KiB each; libuv's UV__MMSG_MAXWIDTH)
constexpr unsigned kIdDraws = 16;   // random IDs tried on a socket before a send counts as failed

// 64-bit FNV-1a of a question (name, type): the key of LoadGenerator::answered_questions_.
uint64_t questionHash(const dns::Question& q) {
  uint64_t h = 14695981039346656037ull;
  const auto mix = [&h](uint8_t byte) {
    h ^= byte;
    h *= 1099511628211ull;
  };
  for (char c : q.name) mix(static_cast<uint8_t>(c));
  mix(0);
  mix(static_cast<uint8_t>(q.type >> 8));
  mix(static_cast<uint8_t>(q.type));
  return h;
}


// The kernel's default 208 KB buffers overflow in a burst of answers (lab notes); root may exceed
// net.core.rmem_max / wmem_max with the FORCE options.
void growBuffers(uv_udp_t* udp, int bytes) {
  uv_os_fd_t fd;
  if (bytes <= 0 || uv_fileno(reinterpret_cast<uv_handle_t*>(udp), &fd) != 0) return;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    int size = bytes;
    (void)uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(udp), &size);
  }
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0) {
    int size = bytes;
    (void)uv_send_buffer_size(reinterpret_cast<uv_handle_t*>(udp), &size);
  }
}

}  // namespace

struct LoadGenerator::Access {
  static void onTick(uv_timer_t* timer) noexcept {
    if (auto* self = static_cast<LoadGenerator*>(timer->data)) self->onTick();
  }
  static void onAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) noexcept {
    auto* socket = static_cast<Socket*>(handle->data);
    if (socket == nullptr) {
      *buf = uv_buf_init(nullptr, 0);
      return;
    }
    auto& buffer = socket->owner->recv_buffer_;
    *buf = uv_buf_init(reinterpret_cast<char*>(buffer.data()), static_cast<unsigned>(buffer.size()));
  }
  static void onRecv(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const sockaddr* from, unsigned flags) noexcept {
    auto* socket = static_cast<Socket*>(handle->data);
    if (socket == nullptr) return;
    // libuv ends each recvmmsg() batch with a UV_UDP_MMSG_FREE call: a full batch means more
    // answers were waiting, i.e. the client was behind in reading them.
    if ((flags & UV_UDP_MMSG_FREE) != 0) {
      const unsigned batch = socket->batch;
      socket->batch = 0;
      socket->owner->onBatch(*socket, batch);  // may end the run and free `socket`
      return;
    }
    if ((flags & UV_UDP_MMSG_CHUNK) != 0) ++socket->batch;
    if (nread <= 0 || from == nullptr || (flags & UV_UDP_PARTIAL) != 0) return;
    socket->owner->onDatagram(*socket, reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread), from);
  }
};

LoadGenerator::LoadGenerator(uv_loop_t* loop, GeneratorOptions options, QuestionSource& source, Planner planner)
    : loop_(loop), options_(std::move(options)), source_(source), planner_(std::move(planner)), recv_buffer_(kRecvChunks * 65536) {}

LoadGenerator::~LoadGenerator() = default;  // the handles close themselves (loop.h)

bool LoadGenerator::openSockets(unsigned count, std::string& error) {
  const bool ipv6 = options_.resolver.ipv6;
  int rc = ipv6 ? uv_ip6_addr(options_.resolver.ip.c_str(), options_.resolver.port, reinterpret_cast<sockaddr_in6*>(&to_))
                : uv_ip4_addr(options_.resolver.ip.c_str(), options_.resolver.port, reinterpret_cast<sockaddr_in*>(&to_));
  if (rc != 0) {
    error = "unusable resolver address " + options_.resolver.toString();
    return false;
  }
  for (unsigned i = 0; i < count; ++i) {
    auto udp = loop::makeUdp(loop_, (ipv6 ? AF_INET6 : AF_INET) | UV_UDP_RECVMMSG, rc);
    if (!udp) {
      error = std::string("udp socket: ") + uv_strerror(rc);
      return false;
    }
    // Port 0: a random ephemeral port per socket; several sockets also spread the load over the
    // threads of a resolver that uses SO_REUSEPORT (lab notes).
    sockaddr_storage any{};
    if (ipv6) {
      uv_ip6_addr("::", 0, reinterpret_cast<sockaddr_in6*>(&any));
    } else {
      uv_ip4_addr("0.0.0.0", 0, reinterpret_cast<sockaddr_in*>(&any));
    }
    auto socket = std::make_unique<Socket>();
    socket->owner = this;
    socket->index = i;
    socket->slots.resize(65536);
    udp->data = socket.get();
    rc = uv_udp_bind(udp.get(), reinterpret_cast<const sockaddr*>(&any), ipv6 ? UV_UDP_IPV6ONLY : 0);
    if (rc == 0) {
      growBuffers(udp.get(), options_.socket_buffer);
      rc = uv_udp_recv_start(udp.get(), Access::onAlloc, Access::onRecv);
    }
    socket->udp = std::move(udp);
    if (rc != 0) {
      error = std::string("udp bind: ") + uv_strerror(rc);
      return false;
    }
    sockets_.push_back(std::move(socket));
  }
  return true;
}

bool LoadGenerator::start(std::string& error) {
  if (!openSockets(options_.sockets ? options_.sockets : kDefaultSockets, error)) {
    sockets_.clear();
    return false;
  }
  int rc = 0;
  tick_ = loop::makeTimer(loop_, rc);
  if (!tick_) {
    error = std::string("timer: ") + uv_strerror(rc);
    sockets_.clear();
    return false;
  }
  tick_->data = this;
  if (!beginNext(uv_hrtime())) {
    error = "nothing to do";
    tick_.reset();
    sockets_.clear();
    return false;
  }
  uv_timer_start(tick_.get(), Access::onTick, 1, 1);
  return true;
}

void LoadGenerator::stop() noexcept {
  if (active_) results_[*active_].end_ns = uv_hrtime();
  active_.reset();
  draining_ = false;
  stopping_ = true;
  finishIfIdle();
}

// Asks the planner for the next phase and starts it at `start_ns` (the end of the one before,
// so the timetable runs on without a gap). False when there is none.
bool LoadGenerator::beginNext(uint64_t start_ns) {
  std::optional<PhasePlan> plan = planner_(std::span<const PhaseResult>(results_));
  if (!plan) return false;
  PhaseResult result;
  result.plan = std::move(*plan);
  result.start_ns = start_ns;
  if (result.plan.pass) source_.beginPass(result.plan.pass_index);
  results_.push_back(std::move(result));
  active_ = results_.size() - 1;
  sent_in_phase_ = 0;
  draining_ = results_.back().plan.drain_first && outstanding_ > 0;
  return true;
}

void LoadGenerator::onTick() noexcept {
  const uint64_t now = uv_hrtime();
  expire(now);
  if (draining_) {
    if (outstanding_ > 0) return;
    // The timetable of a phase that waited for the drain starts now.
    draining_ = false;
    results_[*active_].start_ns = now;
  }
  sendDue(now);
  finishIfIdle();
}

void LoadGenerator::sendDue(uint64_t now) {
  while (active_ && !draining_) {
    PhaseResult& phase = results_[*active_];
    const SendSchedule schedule(phase.plan.rate_qps, phase.start_ns);
    if (phase.plan.pass) {
      uint64_t due = schedule.dueBy(now);
      while (sent_in_phase_ < due && !source_.passDone()) {
        std::optional<dns::Question> q = source_.next();
        starved_ = !q;
        if (!q) {
          ++phase.dry_ticks;
          break;  // waiting for MX answers; the timetable catches up when they come
        }
        ++sent_in_phase_;
        if (!sendOne(*q, now)) ++phase.send_errors;
      }
      if (!source_.passDone()) return;
      phase.end_ns = now;
    } else {
      const uint64_t end = phase.start_ns + static_cast<uint64_t>(phase.plan.seconds * 1e9);
      const uint64_t total = schedule.dueBy(end);
      const uint64_t due = std::min(schedule.dueBy(now), total);
      while (sent_in_phase_ < due) {
        std::optional<dns::Question> q = source_.next();
        starved_ = !q;
        if (!q) {
          ++phase.dry_ticks;
          break;
        }
        ++sent_in_phase_;
        if (!sendOne(*q, now)) ++phase.send_errors;
      }
      if (now < end) return;
      phase.end_ns = end;
    }
    const uint64_t end_ns = phase.end_ns;
    active_.reset();
    if (stopping_ || !beginNext(end_ns)) {
      stopping_ = true;
      return;
    }
  }
}

bool LoadGenerator::sendOne(const dns::Question& question, uint64_t now) {
  Socket& socket = *sockets_[next_socket_++ % sockets_.size()];
  uint16_t id = 0;
  unsigned draws = 0;
  do {
    id = dns::randomQueryId();
  } while (socket.slots[id].busy && ++draws < kIdDraws);
  if (draws == kIdDraws) return false;
  const std::vector<uint8_t> wire = dns::buildQuery(id, question, options_.query);
  if (wire.empty()) return false;
  uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(wire.data())), static_cast<unsigned>(wire.size()));
  // Open loop: a send the socket cannot take now (EAGAIN) is not queued; it counts as an error.
  if (uv_udp_try_send(socket.udp.get(), &buf, 1, reinterpret_cast<const sockaddr*>(&to_)) < 0) return false;
  const uint32_t phase = static_cast<uint32_t>(*active_);
  Slot& slot = socket.slots[id];
  slot.question = question;
  slot.sent_ns = now;
  slot.seq = next_seq_++;
  slot.phase = phase;
  slot.busy = true;
  expiries_.push_back(Expiry{now + uint64_t{options_.timeout_ms} * 1000000, slot.seq, socket.index, id});
  ++outstanding_;
  PhaseResult& result = results_[phase];
  ++result.sent;
  ++result.by_type[question.type].sent;
  return true;
}

void LoadGenerator::expire(uint64_t now) {
  while (!expiries_.empty() && expiries_.front().deadline_ns <= now) {
    const Expiry e = expiries_.front();
    expiries_.pop_front();
    Slot& slot = sockets_[e.socket]->slots[e.id];
    if (!slot.busy || slot.seq != e.seq) continue;  // answered meanwhile
    slot.busy = false;
    --outstanding_;
    PhaseResult& result = results_[slot.phase];
    ++result.lost;
    if (!answered_questions_.contains(questionHash(slot.question))) ++result.lost_unanswered;
    ++result.by_type[slot.question.type].lost;
    source_.onOutcome(slot.question, nullptr);
  }
}

void LoadGenerator::onBatch(Socket& socket, unsigned datagrams) noexcept {
  if (active_ && !draining_ && datagrams > 0) {
    PhaseResult& phase = results_[*active_];
    ++phase.read_batches;
    if (datagrams >= kRecvChunks) ++phase.full_read_batches;
  }
  if (datagrams >= kRecvChunks) drain(socket);
}

// A full batch means more answers are waiting, and libuv reads no more from this socket until
// the next loop iteration, after the tick has sent everything that fell due meanwhile: reading
// would fall further behind with every slower iteration, and the client, not the resolver,
// would collapse. So the rest is read here, from the socket's descriptor, with the same
// recvmmsg() libuv uses, into the same buffer (libuv hands it back with UV_UDP_MMSG_FREE), up to
// kDrainRounds batches.
void LoadGenerator::drain(Socket& socket) noexcept {
  constexpr int kDrainRounds = 16;
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(socket.udp.get()), &fd) != 0) return;
  mmsghdr messages[kRecvChunks];
  iovec vectors[kRecvChunks];
  sockaddr_storage peers[kRecvChunks];
  for (int round = 0; round < kDrainRounds; ++round) {
    for (size_t i = 0; i < kRecvChunks; ++i) {
      vectors[i] = iovec{recv_buffer_.data() + i * 65536, 65536};
      messages[i] = mmsghdr{};
      messages[i].msg_hdr.msg_name = &peers[i];
      messages[i].msg_hdr.msg_namelen = sizeof peers[i];
      messages[i].msg_hdr.msg_iov = &vectors[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = recvmmsg(fd, messages, kRecvChunks, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;
    if (active_ && !draining_) ++results_[*active_].read_batches;
    for (int i = 0; i < n; ++i) {
      if ((messages[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) continue;
      onDatagram(socket, recv_buffer_.data() + static_cast<size_t>(i) * 65536, messages[i].msg_len,
                 reinterpret_cast<const sockaddr*>(&peers[i]));
      if (!tick_) return;  // the run ended: `socket` is gone
    }
    if (static_cast<size_t>(n) < kRecvChunks) return;
    if (active_ && !draining_) ++results_[*active_].full_read_batches;
  }
}

void LoadGenerator::onDatagram(Socket& socket, const uint8_t* data, size_t size, const sockaddr* from) noexcept {
  const uint64_t now = uv_hrtime();
  PhaseResult* current = active_ ? &results_[*active_] : nullptr;
  if (current != nullptr && (draining_ || now < current->start_ns)) current = nullptr;
  const std::optional<uint16_t> id = dns::messageId(data, size);
  if (!id || !dns::sameSocketAddress(from, to_)) {
    if (current) ++current->ignored;
    return;
  }
  Slot& slot = socket.slots[*id];
  if (!slot.busy) {
    if (current) ++current->late;
    return;
  }
  std::string error;
  std::optional<dns::Response> response;
  try {
    response = source_.wantsRecords(slot.question) ? dns::parseResponse(data, size, error) : dns::parseResponseHead(data, size, error);
  } catch (...) {
    response.reset();  // allocation failure: nothing may unwind into libuv
  }
  if (!response || !response->question || response->question->type != slot.question.type ||
      response->question->name != slot.question.name) {
    if (current) ++current->ignored;
    return;
  }
  slot.busy = false;
  --outstanding_;
  answered_questions_.insert(questionHash(slot.question));
  if (current) ++current->received;
  PhaseResult& result = results_[slot.phase];
  ++result.answered;
  result.latency_ns.record(now - slot.sent_ns);
  if (response->truncated) ++result.truncated;
  TypeCounts& counts = result.by_type[slot.question.type];
  ++counts.answered;
  ++counts.rcodes[dns::rcodeName(response->rcode)];
  for (const dns::ExtendedError& ede : response->extended_errors) ++counts.ede[ede.code];
  source_.onOutcome(slot.question, &*response);
  // A DaneMix that waited for this answer may have questions due now; otherwise the tick sends.
  if (starved_) sendDue(now);
  finishIfIdle();
}

// The run ends when no phase is left and nothing is outstanding: closing the handles lets
// uv_run return.
void LoadGenerator::finishIfIdle() {
  if (!stopping_ || outstanding_ > 0 || !tick_) return;
  tick_.reset();
  sockets_.clear();
  expiries_.clear();
}

}  // namespace danescan::scanner::loadgen
