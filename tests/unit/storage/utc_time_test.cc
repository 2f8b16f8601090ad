// tests/unit/storage/utc_time_test.cc — utcTime(): ISO 8601 UTC with milliseconds, the form of
// every time in the database (storage/SCHEMA.md), exact across a second's boundary and for times
// given out of order (it keeps the last second's text).
#include "storage/database.h"

#include <gtest/gtest.h>

#include <chrono>

namespace danescan::storage {
namespace {

using namespace std::chrono;

system_clock::time_point at(year_month_day day, int h, int m, int s, int ms) {
  return sys_days{day} + hours{h} + minutes{m} + seconds{s} + milliseconds{ms};
}

TEST(UtcTime, PrintsDateTimeAndMilliseconds) {
  EXPECT_EQ(utcTime(at(2026y / 11 / 29, 0, 45, 12, 345)), "2026-11-29T00:45:12.345Z");
  EXPECT_EQ(utcTime(at(2026y / 11 / 29, 0, 45, 12, 7)), "2026-11-29T00:45:12.007Z");   // same second
  EXPECT_EQ(utcTime(at(2026y / 11 / 29, 0, 45, 12, 999)), "2026-11-29T00:45:12.999Z");
  EXPECT_EQ(utcTime(at(2026y / 11 / 29, 0, 45, 13, 0)), "2026-11-29T00:45:13.000Z");   // the next one
  EXPECT_EQ(utcTime(at(2026y / 12 / 31, 23, 59, 59, 50)), "2026-12-31T23:59:59.050Z");
  EXPECT_EQ(utcTime(at(2027y / 1 / 1, 0, 0, 0, 10)), "2027-01-01T00:00:00.010Z");
  EXPECT_EQ(utcTime(at(2026y / 11 / 29, 0, 45, 12, 100)), "2026-11-29T00:45:12.100Z");  // an earlier second again
  EXPECT_EQ(utcTime(at(2024y / 2 / 29, 12, 0, 1, 1)), "2024-02-29T12:00:01.001Z");
}

}  // namespace
}  // namespace danescan::storage
