#include "scanner/pipeline/lookup_step.h"


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
    q.answer_wire = result.response->answer_wire;
  }
  return q;
}

}  // namespace danescan::scanner::pipeline
