// scanner/dns/resolver_client.h — the asynchronous client that asks the configured recursive
// resolvers (never the system resolver) over UDP, falling back to TCP on truncation. It owns a
// small pool of UDP sockets, one timer per query and, per resolver, a small pool of TCP
// connections that carry several queries each (RFC 7766 section 6.2.1.1: pipelined, answered in
// any order, matched by ID and question), all on the caller's libuv loop; message.h builds and
// parses every message. Each query ends in one plain-value QueryResult, delivered exactly once,
// from the loop.
#pragma once

#include "scanner/dns/message.h"
#include "scanner/dns/resolver_address.h"
#include "scanner/loop/loop.h"

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace danescan::scanner::dns {

struct ClientOptions {
  unsigned timeout_ms = 2000;      // first UDP attempt; doubled on each retry (back-off)
  unsigned max_timeout_ms = 8000;  // cap of the back-off
  unsigned attempts = 3;           // UDP sends per query, rotating across the resolvers
  unsigned tcp_timeout_ms = 4000;  // the whole TCP exchange after TC=1: wait for a connection, connect, write, read
  // A connection that answered nothing for this long after a query went to it is stalled: it
  // takes no new query, and the queries on it move to another connection within what remains of
  // their tcp_timeout_ms (one stalled connection must not time out every query it carries).
  // At or above tcp_timeout_ms: never.
  unsigned tcp_stall_ms = 2000;
  // UDP sockets per resolver. A socket sends to one resolver only: libuv sends a socket's queue
  // in sendmmsg() batches and fails the whole batch when the kernel refuses its first datagram,
  // so a refused resolver must not share a batch with the others.
  unsigned sockets_per_resolver = 4;
  // TCP connections per resolver at most. Queries beyond what they carry wait (within their
  // tcp_timeout_ms) for one to free up.
  unsigned tcp_connections_per_resolver = 4;
  unsigned tcp_queries_per_connection = 64;  // pipelined on one connection at most
  // A connection with nothing waiting is closed after this long (RFC 7766 section 6.2.3 asks
  // clients to close idle connections, and servers close them anyway).
  unsigned tcp_idle_timeout_ms = 10000;
  int udp_receive_buffer = 4 << 20;     // bytes asked for each UDP socket's receive buffer
};

enum class QueryOutcome { Answered, Timeout, NetworkError };

struct QueryResult {
  QueryOutcome outcome = QueryOutcome::NetworkError;
  std::optional<Response> response;  // present exactly when Answered
  // rcodeName() of the answer; "TIMEOUT" otherwise (the export contract knows no other value for
  // a lookup that got no answer, whether it timed out or failed locally).
  std::string rcode = "TIMEOUT";
  uint64_t elapsed_ms = 0;   // from query() to the result
  unsigned attempts = 0;     // messages sent, UDP and TCP
  bool tcp = false;          // the query was repeated over TCP after TC=1 (attempts counts a TCP retry)
  std::optional<ResolverAddress> resolver;  // the one that answered (or that TCP went to)
  // What went wrong, briefly, also on success when responses were ignored
  // ("1 response with another question ignored"); empty when nothing did.
  std::string error;
};

// Datagrams that could not be tied to a pending query (unknown ID on that socket, too short to
// carry an ID, or a late answer to a finished query). Those that carry a pending query's ID but
// fail its checks are counted in that query's QueryResult::error instead.
struct ClientStats {
  uint64_t unmatched_datagrams = 0;
  // TCP messages with an ID no query waits for on that connection (a late answer to a query that
  // timed out) or too short to carry one.
  uint64_t unmatched_tcp_messages = 0;
  uint64_t tcp_connections_opened = 0;  // connect() calls started
  uint64_t tcp_queries = 0;             // queries written to a TCP connection, retries included
  uint64_t tcp_stalls = 0;              // connections given up as stalled (tcp_stall_ms)
  // Resolver liveness (the scan's "the resolver never answered"): responses accepted for a
  // query, whatever their rcode (REFUSED and TC=1 included), over UDP or TCP; UDP attempts that
  // got no answer in time; the most of those in one query; resolvers with at least one.
  uint64_t responses = 0;
  uint64_t udp_timeouts = 0;
  unsigned most_timeouts_in_a_query = 0;
  size_t resolvers_timed_out = 0;
};

class ResolverClient {
 public:
  using Callback = std::function<void(QueryResult)>;

  // `loop` must outlive the client. An empty resolver list makes every query a NetworkError.
  ResolverClient(uv_loop_t* loop, std::vector<ResolverAddress> resolvers, ClientOptions options);
  // Closes the client: pending queries end with NetworkError "client closed".
  ~ResolverClient();
  ResolverClient(const ResolverClient&) = delete;
  ResolverClient& operator=(const ResolverClient&) = delete;

  // Starts a query. `done` runs exactly once, always from the loop (never inside this call), and
  // must not throw (an exception is caught and dropped at the libuv boundary). It may call
  // query() or destroy the client.
  void query(const Question& question, QueryOptions options, Callback done);

  // Ends every pending query with NetworkError "client closed" (callbacks run inside this call)
  // and closes the sockets. Later queries end the same way, from the loop.
  void close();

  [[nodiscard]] size_t pending() const noexcept { return queries_.size(); }
  [[nodiscard]] const ClientStats& stats() const noexcept { return stats_; }

  // Defined in resolver_client.cc; named here only so that its libuv callbacks can reach them.
  struct Query;
  struct Socket;
  struct TcpConnection;
  struct TcpPool;
  struct SendRequest;

 private:
  friend struct ClientAccess;  // the libuv callbacks in resolver_client.cc

  void startAttempt(Query& q);
  void armTimer(Query& q, uint64_t ms);
  void onTimer(Query& q);
  void onSendFailed(uint64_t key, uint64_t attempt, int status);
  void onDatagram(Socket& socket, const uint8_t* data, size_t size, const sockaddr* from);
  // A finished query's callback and result, detached from the client: delivering it touches no
  // member, so a batch can be delivered even when one callback destroys the client.
  struct Ending {
    Callback done;
    QueryResult result;
  };
  void startTcp(Query& q);
  void placeTcp(Query& q);
  [[nodiscard]] TcpConnection* chooseConnection(size_t resolver, std::string& error);
  [[nodiscard]] TcpConnection* openConnection(size_t resolver, std::string& error);
  void assign(TcpConnection& conn, Query& q);
  void writeQuery(TcpConnection& conn, Query& q);
  void onTcpConnected(TcpConnection& conn, int status);
  void onTcpBytes(TcpConnection& conn, const uint8_t* data, size_t size);
  void onTcpTimer(TcpConnection& conn);
  void failConnection(TcpConnection& conn, const std::string& what);
  void deferFailure(TcpConnection& conn, std::string what);
  void tidy(TcpConnection& conn);
  void closeConnection(TcpConnection& conn);
  void destroyConnection(TcpConnection& conn);
  void pumpBacklog(size_t resolver);
  void finish(Query& q, QueryOutcome outcome, std::optional<Response> response);
  [[nodiscard]] Ending detach(Query& q, QueryOutcome outcome, std::optional<Response> response);
  [[nodiscard]] Socket* pickSocket(size_t resolver, std::string& error);
  [[nodiscard]] QueryResult resultOf(Query& q, QueryOutcome outcome, std::optional<Response> response) const;
  [[nodiscard]] bool openSockets(size_t resolver, std::string& error);

  uv_loop_t* loop_;
  std::vector<ResolverAddress> resolvers_;
  std::vector<sockaddr_storage> resolver_addrs_;  // resolved once, parallel to resolvers_
  // Resolver health, parallel to resolvers_: consecutive failures (UDP timeouts, REFUSED), and
  // until when (uv_now) a resolver that reached kDownAfter of them gets no first attempts while
  // another is up.
  struct Health {
    unsigned timeouts = 0;
    uint64_t down_until = 0;
  };
  std::vector<Health> health_;
  [[nodiscard]] size_t pickResolver(const Query& q) const;
  void noteFailure(size_t resolver);
  void noteTimeout(Query& q);
  void armTcpTimer(Query& q);
  void moveOffStalled(TcpConnection& conn);
  std::vector<bool> timed_out_once_;  // parallel to resolvers_: stats_.resolvers_timed_out
  ClientOptions options_;
  bool closed_ = false;
  size_t next_resolver_ = 0;
  uint64_t next_serial_ = 0;
  uint64_t next_attempt_ = 0;
  std::vector<std::vector<std::unique_ptr<Socket>>> sockets_;  // parallel to resolvers_, opened on first use
  uint64_t next_socket_serial_ = 0;
  std::unordered_map<uint64_t, std::unique_ptr<Query>> queries_;  // by serial
  // (socket serial << 16 | ID) -> query, one entry per UDP attempt still awaiting an answer; a
  // late answer to an earlier attempt of the same query is accepted.
  struct InFlightEntry {
    Query* query;
    size_t resolver;   // index into resolvers_: the answer must come from it
    uint64_t attempt;  // next_attempt_ when it was sent: a failed send finds its own attempt
  };
  std::unordered_map<uint64_t, InFlightEntry> in_flight_;
  std::vector<TcpPool> tcp_pools_;  // parallel to resolvers_
  ClientStats stats_;
  // One recvmmsg() batch (datagrams in 64 KiB chunks, each handled before the next read) or one
  // TCP read at a time: libuv allocates, then delivers; TCP bytes are copied out to their
  // connection at once.
  std::vector<uint8_t> recv_buffer_;
};

}  // namespace danescan::scanner::dns
