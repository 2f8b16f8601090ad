// scanner/loadgen/question_source.cc — see question_source.h.
#include "scanner/loadgen/question_source.h"

#include "scanner/pipeline/host_name.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace danescan::scanner::loadgen {
namespace {

constexpr uint16_t kMx = static_cast<uint16_t>(dns::RrType::MX);

}  // namespace

std::optional<QuestionFile> QuestionFile::load(const std::string& path, std::string& error) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path);
    if (!file) {
      error = "cannot read question file '" + path + "'";
      return std::nullopt;
    }
    in = &file;
  }
  std::vector<dns::Question> questions;
  std::string line;
  uint64_t number = 0;
  while (std::getline(*in, line)) {
    ++number;
    std::istringstream fields(line);
    std::string name;
    std::string type;
    std::string extra;
    if (!(fields >> name) || name[0] == ';' || name[0] == '#') continue;
    const auto where = [&] { return path + ":" + std::to_string(number) + ": "; };
    if (!(fields >> type) || (fields >> extra)) {
      error = where() + "expected 'name type'";
      return std::nullopt;
    }
    const std::optional<uint16_t> code = dns::rrTypeFromName(type);
    if (!code) {
      error = where() + "unknown type '" + type + "'";
      return std::nullopt;
    }
    questions.push_back(dns::Question{dns::normaliseOwner(name), *code});
  }
  if (in->bad()) {
    error = "reading '" + path + "' failed";
    return std::nullopt;
  }
  return QuestionFile(std::move(questions));
}

std::optional<dns::Question> QuestionFile::next() {
  if (questions_.empty()) return std::nullopt;
  return questions_[cursor_++ % questions_.size()];
}

void DaneMix::beginPass(unsigned index) {
  passes_ = true;
  replaying_ = index > 0;
  replay_ = 0;
}

bool DaneMix::passDone() const {
  if (replaying_) return replay_ >= script_.size();
  return next_domain_ >= domains_.size() && pending_head_ >= pending_.size() && mx_outstanding_.empty();
}

std::optional<dns::Question> DaneMix::next() {
  if (replaying_) {
    if (replay_ >= script_.size()) return std::nullopt;
    return script_[replay_++];
  }
  if (pending_head_ < pending_.size()) {
    script_.push_back(std::move(pending_[pending_head_++]));
    if (pending_head_ == pending_.size()) {
      pending_.clear();
      pending_head_ = 0;
    }
    return script_.back();
  }
  if (next_domain_ < domains_.size()) {
    mx_outstanding_.insert(domains_[next_domain_]);
    script_.push_back(dns::Question{std::move(domains_[next_domain_++]), kMx});
    return script_.back();
  }
  // The list is used up. Pass 0 of --passes waits for the MX answers that may name more hosts;
  // a timed run goes on with the script from its start (hosts learned meanwhile join it above).
  if (passes_ || script_.empty()) return std::nullopt;
  return script_[replay_++ % script_.size()];
}

bool DaneMix::wantsRecords(const dns::Question& question) const {
  // Only the first outcome of a list's MX question teaches hosts.
  return question.type == kMx && !replaying_ && mx_outstanding_.contains(question.name);
}

void DaneMix::onOutcome(const dns::Question& question, const dns::Response* response) {
  if (question.type != kMx || replaying_ || mx_outstanding_.erase(question.name) == 0) return;
  if (response == nullptr || response->rcode != 0) return;
  std::vector<std::string> hosts;
  if (response->mx.empty()) {
    hosts.push_back(question.name);  // RFC 5321 section 5.1: implicit MX
  } else {
    for (const dns::MxRecord& mx : response->mx) {
      if (pipeline::isValidMxHostName(mx.exchange)) hosts.push_back(mx.exchange);  // skips a null MX
    }
  }
  for (std::string& host : hosts) {
    if (!hosts_.insert(host).second) continue;
    pending_.push_back(dns::Question{host, static_cast<uint16_t>(dns::RrType::CNAME)});
    pending_.push_back(dns::Question{host, static_cast<uint16_t>(dns::RrType::A)});
    pending_.push_back(dns::Question{host, static_cast<uint16_t>(dns::RrType::AAAA)});
    pending_.push_back(dns::Question{"_25._tcp." + host, static_cast<uint16_t>(dns::RrType::TLSA)});
  }
}

}  // namespace danescan::scanner::loadgen
