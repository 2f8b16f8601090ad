#include "scanner/pipeline/lookup_step.h"

#include <charconv>

namespace danescan::scanner::pipeline {

storage::QueryRecord makeQueryRecord(const QueryRequest& request, const dns::QueryResult& result) {
  storage::QueryRecord q;
  q.purpose = request.purpose;
  q.name = request.question.name;
  q.type = request.question.type;
  q.cd = request.cd;
  q.rcode = result.rcode;
  q.ad = hasAd(result);
  q.tcp = result.tcp;
  q.elapsed_ms = static_cast<uint32_t>(result.elapsed_ms);
  q.attempts = result.attempts;
  if (result.resolver) q.resolver = result.resolver->toString();
  q.error = result.error;
  if (result.response) {
    for (const dns::ExtendedError& e : result.response->extended_errors) {
      q.ede.push_back(e.code);
      if (!e.text.empty()) {
        if (!q.ede_text.empty()) q.ede_text += "; ";
        q.ede_text += e.text;
      }
    }
    size_t size = 0;
    for (const dns::Record& rr : result.response->answer) size += rr.owner.size() + rr.rdata.size() + 32;
    q.answer.reserve(size);
    for (const dns::Record& rr : result.response->answer) {
      if (!q.answer.empty()) q.answer += '\n';
      q.answer += rr.owner;
      q.answer += ". ";
      char ttl[16];
      q.answer.append(ttl, static_cast<size_t>(std::to_chars(ttl, ttl + sizeof ttl, rr.ttl).ptr - ttl));
      q.answer += " IN ";
      q.answer += dns::rrTypeName(rr.type);
      q.answer += ' ';
      q.answer += rr.rdata;
    }
  }
  return q;
}

}  // namespace danescan::scanner::pipeline
