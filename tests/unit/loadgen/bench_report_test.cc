// The report formats on hand-made results: the JSON carries the contract's fields (checked here
// field by field, and by Python's parser in loadgen.json_parses), the ramp's outcome follows the
// stopping rule, and the HTML escapes every string and draws its chart inline.
#include "scanner/loadgen/bench_report.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace danescan::scanner::loadgen {
namespace {

constexpr uint64_t kS = 1000000000;

PhaseResult phase(const std::string& label, double rate, uint64_t sent, uint64_t answered, uint64_t received, uint64_t start_s = 0) {
  PhaseResult p;
  p.plan.label = label;
  p.plan.rate_qps = rate;
  p.start_ns = start_s * kS;
  p.end_ns = (start_s + 2) * kS;
  p.sent = sent;
  p.answered = answered;
  p.lost = sent - answered;
  p.received = received;
  for (uint64_t i = 0; i < answered; ++i) p.latency_ns.record(100000 + i % 1000 * 1000);  // 0.1..1.1 ms
  TypeCounts& mx = p.by_type[15];
  mx.sent = sent;
  mx.answered = answered;
  mx.lost = sent - answered;
  mx.rcodes["NOERROR"] = answered > 0 ? answered - 1 : 0;
  if (answered > 0) mx.rcodes["SERVFAIL"] = 1;
  if (answered > 0) mx.ede[6] = 1;
  return p;
}

BenchReport rampReport() {
  BenchReport r;
  r.mode = BenchMode::Ramp;
  r.resolver = "127.0.0.1:53";
  r.source_kind = "queries";
  r.source_path = "q<&>\"'.txt";
  r.source_size = 10;
  r.timeout_ms = 2000;
  r.stop_reason = "answers fell below 95 % of the offered rate in 2 steps in a row";
  r.phases = {phase("step 1", 1000, 2000, 2000, 2000, 0), phase("step 2", 2000, 4000, 3990, 3980, 2),
              phase("step 3", 4000, 8000, 7000, 6000, 4), phase("step 4", 8000, 16000, 7200, 7000, 6)};
  return r;
}

TEST(BenchReport, RampOutcomeFollowsTheStoppingRule) {
  const RampOutcome o = rampOutcome(rampReport());
  EXPECT_EQ(o.best_step, 1);  // step 2: 99.5 % received, 0.25 % lost
  EXPECT_DOUBLE_EQ(o.max_sustained_qps, 3990.0 / 2);
  EXPECT_DOUBLE_EQ(o.max_received_qps, 7000.0 / 2);
}

TEST(BenchReport, SummaryFigures) {
  const PhaseSummary s = summarise(phase("p", 1000, 2000, 1900, 1800));
  EXPECT_DOUBLE_EQ(s.seconds, 2);
  EXPECT_DOUBLE_EQ(s.offered_qps, 1000);
  EXPECT_DOUBLE_EQ(s.achieved_qps, 950);
  EXPECT_DOUBLE_EQ(s.received_qps, 900);
  EXPECT_DOUBLE_EQ(s.response_rate, 0.95);
  EXPECT_EQ(s.lost, 100u);
  // 1,900 samples: 0.1 to 0.999 ms twice, 1.0 to 1.099 ms once; rank 950 is 0.574 ms.
  EXPECT_NEAR(s.p50_ms, 0.574, 0.574 * 0.004);
}

// Writes `json` to a file and runs Python's parser over it with `check`, a Python expression on
// `o` that must hold.
bool pythonAccepts(const std::string& json, const std::string& check) {
  const std::string path = "/tmp/loadgen_report_test_" + std::to_string(::getpid()) + ".json";
  std::ofstream(path) << json;
  const std::string command = "/usr/bin/python3 -c \"import json,sys; o=json.load(open(sys.argv[1])); sys.exit(0 if (" + check + ") else 1)\" " + path;
  const int rc = std::system(command.c_str());
  std::remove(path.c_str());
  return rc == 0;
}

TEST(BenchReport, RateJsonHasTheContractFields) {
  BenchReport r;
  r.mode = BenchMode::Rate;
  r.resolver = "127.0.0.1:53";
  r.source_kind = "list";
  r.source_path = "list\n\"x\".txt";
  r.source_size = 3;
  r.requested_qps = 1000;
  r.duration_s = 2;
  r.phases = {phase("fixed rate", 1000, 2000, 1990, 1990)};
  const std::string json = toJson(r);
  EXPECT_TRUE(pythonAccepts(json,
                            "o['mode']=='rate' and o['offered_qps']==1000.0 and o['achieved_qps']==995.0 and o['lost']==10 and "
                            "set(o['latency_ms'])>={'p50','p90','p99','p999'} and 0.09<o['latency_ms']['p50']<1.2 and "
                            "o['by_type']['MX']['rcodes']['SERVFAIL']==1 and o['by_type']['MX']['ede']['6']==1 and "
                            "o['source']['path']=='list\\n\\\"x\\\".txt'"))
      << json;
}

TEST(BenchReport, RampJsonHasTheContractFields) {
  const std::string json = toJson(rampReport());
  EXPECT_TRUE(pythonAccepts(json,
                            "o['mode']=='ramp' and o['max_sustained_qps']==1995.0 and len(o['steps'])==4 and "
                            "all({'offered_qps','achieved_qps','lost','latency_ms','sustained'}<=set(s) for s in o['steps']) and "
                            "all({'p50','p90','p99','p999'}<=set(s['latency_ms']) for s in o['steps']) and "
                            "[s['sustained'] for s in o['steps']]==[True,True,False,False]"))
      << json;
}

TEST(BenchReport, PassesJsonListsEachPass) {
  BenchReport r;
  r.mode = BenchMode::Passes;
  r.resolver = "127.0.0.1:53";
  r.source_kind = "queries";
  r.source_path = "q.txt";
  r.phases = {phase("pass 1", 1000, 2000, 2000, 2000, 0), phase("pass 2", 1000, 2000, 1000, 1000, 3)};
  EXPECT_TRUE(pythonAccepts(toJson(r), "len(o['passes'])==2 and o['sent']==4000 and o['lost']==1000 and o['offered_qps']==1000.0"));
}

TEST(BenchReport, HtmlIsSelfContainedAndEscaped) {
  const std::string html = toHtml(rampReport());
  EXPECT_EQ(html.find("q<&>"), std::string::npos);
  EXPECT_NE(html.find("q&lt;&amp;&gt;&quot;&#39;.txt"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("offered (queries/s)"), std::string::npos);
  EXPECT_NE(html.find("latency (ms)"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no other URL: nothing fetched
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
}

TEST(BenchReport, TextNamesTheOutcome) {
  const std::string text = toText(rampReport());
  EXPECT_NE(text.find("max sustained: 1995.0 q/s (step 2)"), std::string::npos) << text;
  EXPECT_NE(text.find("stopped: answers fell below"), std::string::npos) << text;
}

}  // namespace
}  // namespace danescan::scanner::loadgen
