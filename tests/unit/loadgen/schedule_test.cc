// The open-loop timetable against a fake clock, and the ramp's rates and stopping rule.
#include "scanner/loadgen/schedule.h"

#include <gtest/gtest.h>

#include <vector>

namespace danescan::scanner::loadgen {
namespace {

constexpr uint64_t kMs = 1000000;
constexpr uint64_t kS = 1000 * kMs;

// Drives the schedule as the generator's 1 ms tick does: each tick sends what became due.
uint64_t sendWithTicks(const SendSchedule& s, uint64_t from, uint64_t until, uint64_t tick, std::vector<uint64_t>* per_tick = nullptr) {
  uint64_t sent = 0;
  for (uint64_t now = from; now <= until; now += tick) {
    const uint64_t due = s.dueBy(now);
    if (per_tick) per_tick->push_back(due - sent);
    sent = due;
  }
  return sent;
}

TEST(SendSchedule, SendsRateTimesSecondsWhateverTheRate) {
  const uint64_t start = 123456789;  // not a multiple of the tick
  for (double rate : {1.0, 333.0, 1000.0, 2500.5, 77777.0, 100000.0, 250000.0}) {
    for (uint64_t seconds : {1u, 3u, 10u}) {
      const SendSchedule s(rate, start);
      const uint64_t sent = sendWithTicks(s, start, start + seconds * kS, kMs);
      EXPECT_EQ(sent, static_cast<uint64_t>(rate * static_cast<double>(seconds))) << rate << " q/s for " << seconds << " s";
    }
  }
}

TEST(SendSchedule, CarriesFractionsAcrossTicks) {
  // 2,500 q/s with 1 ms ticks: 2 or 3 per tick, 5 every 2 ms, never a burst.
  const SendSchedule s(2500, 0);
  std::vector<uint64_t> per_tick;
  sendWithTicks(s, kMs, 1000 * kMs, kMs, &per_tick);
  for (size_t i = 0; i < per_tick.size(); ++i) {
    EXPECT_GE(per_tick[i], 2u) << i;
    EXPECT_LE(per_tick[i], 3u) << i;
  }
  // 300 q/s: a query every 3.33 ms; ticks send 0 or 1.
  const SendSchedule slow(300, 0);
  per_tick.clear();
  EXPECT_EQ(sendWithTicks(slow, 0, kS, kMs, &per_tick), 300u);
  for (uint64_t n : per_tick) EXPECT_LE(n, 1u);
}

TEST(SendSchedule, LateTickCatchesUpOpenLoop) {
  // A tick 50 ms late sends the 50 ms backlog at once; the total is still on time.
  const SendSchedule s(10000, 0);
  EXPECT_EQ(s.dueBy(10 * kMs), 100u);
  EXPECT_EQ(s.dueBy(60 * kMs), 600u);
  EXPECT_EQ(s.dueBy(kS), 10000u);
  EXPECT_EQ(s.dueBy(0), 0u);
  EXPECT_EQ(SendSchedule(10000, 5 * kS).dueBy(kS), 0u);  // before the start
}

TEST(Ramp, RatesGrowGeometricallyOrLinearly) {
  RampOptions o;
  o.start_qps = 1000;
  o.growth = 0.5;
  EXPECT_DOUBLE_EQ(rampRate(o, 0), 1000);
  EXPECT_DOUBLE_EQ(rampRate(o, 1), 1500);
  EXPECT_DOUBLE_EQ(rampRate(o, 2), 2250);
  o.step_qps = 400;
  EXPECT_DOUBLE_EQ(rampRate(o, 0), 1000);
  EXPECT_DOUBLE_EQ(rampRate(o, 3), 2200);
}

StepView step(double offered, double received, uint64_t sent = 1000, uint64_t lost = 0, bool final = true) {
  return StepView{offered, received, sent, lost, final};
}

TEST(Ramp, StopsWhenAnswersFallBehindForPatienceSteps) {
  RampOptions o;  // 95 %, patience 2, max loss 1 %
  std::vector<StepView> steps{step(1000, 1000)};
  EXPECT_EQ(rampStopReason(o, steps), "");
  steps.push_back(step(1100, 1044));  // 94.9 %: behind, once
  EXPECT_EQ(rampStopReason(o, steps), "");
  steps.push_back(step(1210, 1200));  // caught up: the count starts again
  EXPECT_EQ(rampStopReason(o, steps), "");
  steps.push_back(step(1331, 1000));
  EXPECT_EQ(rampStopReason(o, steps), "");
  steps.push_back(step(1464, 1000));  // twice in a row
  EXPECT_NE(rampStopReason(o, steps).find("fell below 95 %"), std::string::npos) << rampStopReason(o, steps);
  o.patience = 1;
  EXPECT_NE(rampStopReason(o, std::vector<StepView>{step(1000, 949)}), "");
  EXPECT_EQ(rampStopReason(o, std::vector<StepView>{step(1000, 950)}), "");
}

TEST(Ramp, StopsWhenAFinalStepLostTooMuch) {
  RampOptions o;
  o.max_loss = 0.01;
  EXPECT_EQ(rampStopReason(o, std::vector<StepView>{step(1000, 1000, 1000, 10)}), "");  // exactly 1 %
  const std::string reason = rampStopReason(o, std::vector<StepView>{step(1000, 1000, 1000, 11), step(1100, 1100)});
  EXPECT_NE(reason.find("step 1 lost 1.10 %"), std::string::npos) << reason;
  // A step still awaiting answers is not judged on its losses yet.
  EXPECT_EQ(rampStopReason(o, std::vector<StepView>{step(1000, 1000, 1000, 500, false)}), "");
}

TEST(Ramp, StopsBeforeExceedingTheMaximum) {
  RampOptions o;
  o.start_qps = 1000;
  o.step_qps = 1000;
  o.max_qps = 3000;
  EXPECT_EQ(rampStopReason(o, std::vector<StepView>{step(1000, 1000), step(2000, 2000)}), "");
  EXPECT_NE(rampStopReason(o, std::vector<StepView>{step(1000, 1000), step(2000, 2000), step(3000, 3000)}), "");
}

TEST(Ramp, SustainedNeedsBothResponsesAndFinalLoss) {
  RampOptions o;
  EXPECT_TRUE(stepSustained(o, step(1000, 960)));
  EXPECT_FALSE(stepSustained(o, step(1000, 900)));
  EXPECT_FALSE(stepSustained(o, step(1000, 1000, 1000, 20)));
  EXPECT_TRUE(stepSustained(o, step(1000, 1000, 1000, 20, false)));
}

TEST(Ramp, QuestionsNeverAnsweredAreNotTakenForOverload) {
  // A list or question file with names behind dead servers loses their queries at every rate:
  // 3 % of the questions here. Counted (lost), but neither the loss rule nor the response rule
  // takes them for the resolver falling behind, so the first step is sustained and the ramp goes on.
  RampOptions o;  // 95 %, max loss 1 %
  StepView dead = step(1000, 970, 1000, 30);
  dead.lost_unanswered = 30;
  dead.unanswered_share = 0.03;
  EXPECT_TRUE(stepSustained(o, dead));
  EXPECT_EQ(rampStopReason(o, std::vector<StepView>{dead, dead}), "");
  // Without that knowledge the same step fails both rules.
  StepView unknown = step(1000, 940, 1000, 30);
  EXPECT_FALSE(stepSustained(o, unknown));
  // Answerable questions lost on top of them still count: 2 % more is overload.
  StepView overload = step(1000, 950, 1000, 50);
  overload.lost_unanswered = 30;
  overload.unanswered_share = 0.03;
  const std::string reason = rampStopReason(o, std::vector<StepView>{dead, overload});
  EXPECT_NE(reason.find("step 2 lost 2.06 %"), std::string::npos) << reason;  // 20 of 970
}

TEST(Ramp, AListThatRanDryIsNotBlamedOnTheClient) {
  RampOptions o;
  StepView dry = step(5000, 5000);
  dry.requested_qps = 10000;
  dry.source_dry = true;
  const std::string reason = rampStopReason(o, std::vector<StepView>{dry});
  EXPECT_NE(reason.find("question source ran dry in step 1"), std::string::npos) << reason;
  EXPECT_EQ(reason.find("client"), std::string::npos) << reason;
}

TEST(Ramp, StopsWhenTheClientFallsBehind) {
  RampOptions o;
  StepView sending = step(9000, 9000);
  sending.requested_qps = 10000;  // 10 % short: the client could not send on schedule
  EXPECT_NE(rampStopReason(o, std::vector<StepView>{sending}).find("fell behind sending in step 1"), std::string::npos);
  sending.offered_qps = 9800;  // within 3 %
  sending.received_qps = 9800;
  EXPECT_EQ(rampStopReason(o, std::vector<StepView>{sending}), "");
  StepView reading = step(10000, 10000);
  reading.full_read_share = 0.97;  // nearly every read found more answers waiting
  EXPECT_NE(rampStopReason(o, std::vector<StepView>{reading}).find("fell behind reading answers"), std::string::npos);
  reading.full_read_share = 0.8;  // a backlog at most reads, every answer received: go on
  EXPECT_EQ(rampStopReason(o, std::vector<StepView>{reading}), "");
}

}  // namespace
}  // namespace danescan::scanner::loadgen
