// scanner/loadgen/question_source.h — where `danescan bench` gets its questions. Two sources:
//
// QuestionFile: a dnsperf data file ("name type" per line; blank lines and lines starting with
// ';' or '#' skipped), asked in file order and cycled, so that danescan and dnsperf/resperf ask
// the identical questions.
//
// DaneMix: a domain list, turned into the questions `danescan scan` sends, in the order a scan
// first asks them: per domain MX; per MX host not seen before CNAME, A, AAAA and TLSA at
// `_25._tcp` (RFC 7672 section 3); a domain whose MX answer is NOERROR without MX records is its
// own mail host (RFC 5321 section 5.1), a null MX (RFC 7505) and invalid exchanges have none.
// The hosts are learned from the answers (onAnswer), so the mix is the one the resolver's data
// implies; questions whose MX answer never came are not asked. Every question asked is kept in
// a script. With --passes, pass 0 ends when the list is used up and every MX answer came (or was
// lost), and each later pass replays the script once. Outside --passes (a fixed rate or a ramp,
// which never call beginPass), the list never runs dry: once it is used up the script is
// replayed from its start, over and over, while the last MX answers may still add their hosts'
// questions to it, so a run lasts as long as it is asked and keeps the same mix. What a scan also asks and the mix leaves out: the CD=1 repeat
// of a SERVFAIL, and the TLSA of a CNAME target (`tlsa-other`).
#pragma once

#include "scanner/dns/message.h"

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace danescan::scanner::loadgen {

class QuestionSource {
 public:
  virtual ~QuestionSource() = default;
  // The next question to ask; nullopt when none is available now (DaneMix waiting for the MX
  // answers that name the last hosts of its list).
  [[nodiscard]] virtual std::optional<dns::Question> next() = 0;
  // Starts pass `index` (0-based) of --passes: pass 0 reads the input, later passes repeat
  // exactly the questions pass 0 asked.
  virtual void beginPass(unsigned index) = 0;
  // True once the current pass has asked every question it will ask (no more can come).
  [[nodiscard]] virtual bool passDone() const = 0;
  // Told the outcome of each query: the answer, or nullptr when it was lost.
  virtual void onOutcome(const dns::Question& question, const dns::Response* response) = 0;
  // Whether onOutcome needs the answer's records (parseResponse) for this question, or only its
  // header, question and EDEs (parseResponseHead, several times cheaper).
  [[nodiscard]] virtual bool wantsRecords(const dns::Question& question) const = 0;
};

class QuestionFile final : public QuestionSource {
 public:
  // Reads `path` ("-": standard input). nullopt with the reason (file:line) in `error`.
  [[nodiscard]] static std::optional<QuestionFile> load(const std::string& path, std::string& error);
  explicit QuestionFile(std::vector<dns::Question> questions) : questions_(std::move(questions)) {}

  std::optional<dns::Question> next() override;
  void beginPass(unsigned) override { cursor_ = 0; }
  bool passDone() const override { return cursor_ >= questions_.size(); }
  void onOutcome(const dns::Question&, const dns::Response*) override {}
  bool wantsRecords(const dns::Question&) const override { return false; }
  [[nodiscard]] size_t size() const noexcept { return questions_.size(); }

 private:
  std::vector<dns::Question> questions_;
  size_t cursor_ = 0;  // questions asked so far (modulo size when cycling)
};

class DaneMix final : public QuestionSource {
 public:
  explicit DaneMix(std::vector<std::string> domains) : domains_(std::move(domains)) {}

  std::optional<dns::Question> next() override;
  void beginPass(unsigned index) override;
  bool passDone() const override;
  void onOutcome(const dns::Question& question, const dns::Response* response) override;
  bool wantsRecords(const dns::Question& question) const override;

  [[nodiscard]] const std::vector<dns::Question>& script() const noexcept { return script_; }

 private:
  std::vector<std::string> domains_;
  size_t next_domain_ = 0;
  std::vector<dns::Question> pending_;  // host questions learned, not asked yet, from pending_head_ on
  size_t pending_head_ = 0;
  std::unordered_set<std::string> hosts_;
  // MX questions of the list (the reading pass) without an outcome yet. A name, not a count: in a
  // cycling run the same MX question may be asked again before its first answer came.
  std::unordered_set<std::string> mx_outstanding_;
  std::vector<dns::Question> script_;
  size_t replay_ = 0;
  bool passes_ = false;     // --passes: beginPass() was called; pass 0 waits for its MX answers
  bool replaying_ = false;  // a later pass: exactly the script, once
};

}  // namespace danescan::scanner::loadgen
