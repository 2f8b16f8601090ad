// scanner/loadgen/load_generator.h — the open-loop DNS load generator behind `danescan bench`.
// On the caller's libuv loop it sends questions from a QuestionSource over UDP to one resolver on
// a timetable (SendSchedule, driven by a 1 ms timer and uv_hrtime), whether or not answers came
// back: a resolver that cannot keep up shows as latency and loss, never as a slower benchmark.
// A query not answered within the timeout is lost; there are no retries; an answer with TC=1 is
// counted as a TCP fallback (not repeated over TCP). Answers are matched by socket, ID, source
// address and question, and parsed with the project's codec (dns/message.h).
//
// A run is a sequence of phases (the fixed-rate run, each pass, each ramp step), chosen one at a
// time by a Planner that sees the results so far; phases follow each other without a gap unless
// a plan asks to drain first. Each query is counted in the phase that sent it, its answer too,
// however late; `received` counts the answers that arrived while a phase ran, whoever sent them.
#pragma once

#include "scanner/dns/message.h"
#include "scanner/dns/resolver_address.h"
#include "scanner/loadgen/histogram.h"
#include "scanner/loadgen/question_source.h"
#include "scanner/loop/loop.h"

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

namespace danescan::scanner::loadgen {

struct GeneratorOptions {
  dns::ResolverAddress resolver;
  unsigned timeout_ms = 2000;
  // UDP sockets, used in turn; each has its own 65,536 IDs, so at most about sockets x 65,536
  // queries can be outstanding (rate x timeout), and libuv reads up to 32 answers from each per
  // loop iteration. 0: the default (16, load_generator.cc).
  unsigned sockets = 0;
  int socket_buffer = 8 << 20;  // bytes asked for each socket's receive and send buffers
  dns::QueryOptions query;      // DO bit, EDNS0 1232: what `scan` sends
};

struct PhasePlan {
  std::string label;
  double rate_qps = 0;
  double seconds = 0;    // a timed phase; ignored by a pass
  bool pass = false;     // send the source's pass `pass_index` once, at rate_qps
  unsigned pass_index = 0;
  bool drain_first = false;  // wait until every earlier query is answered or lost
};

struct TypeCounts {
  uint64_t sent = 0;
  uint64_t answered = 0;
  uint64_t lost = 0;
  std::map<std::string, uint64_t> rcodes;  // rcodeName()
  std::map<uint16_t, uint64_t> ede;        // RFC 8914 INFO-CODE -> answers carrying it
};

struct PhaseResult {
  PhasePlan plan;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;      // end of the timetable (timed), or when the last question left (pass)
  uint64_t sent = 0;
  uint64_t answered = 0;
  uint64_t lost = 0;        // no answer within the timeout
  uint64_t lost_unanswered = 0;  // of those: the question had not been answered at all in the run so far
  uint64_t truncated = 0;   // answers with TC=1 (a client would repeat them over TCP)
  uint64_t send_errors = 0; // due but not sent: the socket refused it, or no free ID
  uint64_t received = 0;    // answers that arrived during [start_ns, end_ns), to any phase's queries
  uint64_t late = 0;        // answers that arrived during the phase after their query was lost
  uint64_t ignored = 0;     // datagrams during the phase that failed the checks (source, parse, question)
  uint64_t dry_ticks = 0;   // sends of due queries that stopped because the source had no question
  // recvmmsg() batches during the phase, and those that came back full: when most are full the
  // client is behind in reading, and latency includes time in its own socket buffers.
  uint64_t read_batches = 0;
  uint64_t full_read_batches = 0;
  Histogram latency_ns;
  std::map<uint16_t, TypeCounts> by_type;

  [[nodiscard]] double seconds() const noexcept { return end_ns > start_ns ? static_cast<double>(end_ns - start_ns) / 1e9 : 0; }
  [[nodiscard]] bool final() const noexcept { return answered + lost == sent; }
};

class LoadGenerator {
 public:
  // Given the phases done so far (the last one just ended), the next phase, or nullopt to stop.
  using Planner = std::function<std::optional<PhasePlan>(std::span<const PhaseResult> done)>;

  LoadGenerator(uv_loop_t* loop, GeneratorOptions options, QuestionSource& source, Planner planner);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Opens the sockets and starts the first phase; false with the reason in `error`. The run ends
  // (its handles close, so uv_run returns) once the planner says stop and every query is
  // answered or lost.
  [[nodiscard]] bool start(std::string& error);
  // Stops sending now (SIGINT); the queries in flight are still awaited.
  void stop() noexcept;

  [[nodiscard]] const std::vector<PhaseResult>& results() const noexcept { return results_; }
  [[nodiscard]] uint64_t outstanding() const noexcept { return outstanding_; }

  struct Access;  // the libuv callbacks

 private:
  struct Slot {
    dns::Question question;
    uint64_t sent_ns = 0;
    uint64_t seq = 0;
    uint32_t phase = 0;
    bool busy = false;
  };
  struct Socket {
    LoadGenerator* owner = nullptr;
    uint32_t index = 0;
    loop::UdpPtr udp;
    std::vector<Slot> slots;  // by query ID
    unsigned batch = 0;       // datagrams of the recvmmsg() batch being delivered
  };
  struct Expiry {
    uint64_t deadline_ns;
    uint64_t seq;
    uint32_t socket;
    uint16_t id;
  };

  void onTick() noexcept;
  void onBatch(Socket& socket, unsigned datagrams) noexcept;
  void drain(Socket& socket) noexcept;
  void onDatagram(Socket& socket, const uint8_t* data, size_t size, const sockaddr* from) noexcept;
  void expire(uint64_t now_ns);
  void sendDue(uint64_t now_ns);
  bool sendOne(const dns::Question& question, uint64_t now_ns);
  bool beginNext(uint64_t start_ns);
  void finishIfIdle();
  [[nodiscard]] bool openSockets(unsigned count, std::string& error);

  uv_loop_t* loop_;
  GeneratorOptions options_;
  QuestionSource& source_;
  Planner planner_;
  sockaddr_storage to_{};
  std::vector<std::unique_ptr<Socket>> sockets_;
  loop::TimerPtr tick_;
  std::deque<Expiry> expiries_;  // in send order, which is deadline order
  std::vector<PhaseResult> results_;
  std::optional<size_t> active_;  // index into results_ of the phase that is sending
  bool draining_ = false;         // waiting for outstanding_ == 0 before the next phase
  bool stopping_ = false;         // no more phases
  bool starved_ = false;          // the source had no question when one was due
  // Hashes of the questions answered at least once in the run: a lost query whose question is not
  // among them counts as lost_unanswered (a name the resolver never answers, not the load).
  std::unordered_set<uint64_t> answered_questions_;
  uint64_t sent_in_phase_ = 0;    // queries the active phase's timetable has used (sent or failed)
  uint64_t outstanding_ = 0;
  uint64_t next_seq_ = 1;
  uint32_t next_socket_ = 0;
  std::vector<uint8_t> recv_buffer_;
};

}  // namespace danescan::scanner::loadgen
