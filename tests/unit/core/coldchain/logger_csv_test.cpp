#include "core/coldchain/logger_csv.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/time.hpp"

namespace depot::coldchain {
namespace {
using ::testing::ElementsAre;

std::int64_t utc(const char* text) { return *timefmt::parse_rfc3339_ms(text); }

std::vector<std::pair<int, std::string>> problems(const LoggerFile& f) {
  std::vector<std::pair<int, std::string>> out;
  for (const auto& p : f.problems) out.emplace_back(p.line, p.reason);
  return out;
}

std::vector<EventKind> kinds(const std::vector<Event>& events) {
  std::vector<EventKind> out;
  for (const auto& e : events) out.push_back(e.kind);
  return out;
}

Zone pharma() {
  Zone z;
  z.id = "pharma-1";
  z.min_c = 2.0;
  z.max_c = 8.0;
  z.warning_band_c = 1.0;
  z.alarm_delay_s = 1800;
  z.hysteresis_c = 0.5;
  z.repeat_s = 0;
  return z;
}

// A fridge logger, one reading every 10 minutes, with a 40-minute excursion.
const char* kExcursionFile =
    "timestamp,temperature_c\n"
    "2026-07-01T08:00:00Z,5.0\n"
    "2026-07-01T08:10:00Z,5.0\n"
    "2026-07-01T08:20:00Z,9.0\n"
    "2026-07-01T08:30:00Z,10.0\n"
    "2026-07-01T08:40:00Z,10.0\n"
    "2026-07-01T08:50:00Z,10.0\n"
    "2026-07-01T09:00:00Z,6.0\n"
    "2026-07-01T09:10:00Z,5.0\n";

TEST(LoggerCsv, ParsesACommaSeparatedExportWithAHeader) {
  auto f = parse_logger_csv(kExcursionFile);
  EXPECT_TRUE(f.has_header);
  EXPECT_EQ(f.separator, ',');
  EXPECT_TRUE(f.problems.empty());
  ASSERT_EQ(f.rows.size(), 8u);
  EXPECT_EQ(f.rows[0].line, 2);
  EXPECT_EQ(f.rows[0].unix_ms, utc("2026-07-01T08:00:00Z"));
  EXPECT_EQ(f.rows[3].celsius, 10.0);
}

TEST(LoggerCsv, BadLinesAreReportedWithTheirNumberAndSkipped) {
  auto f = parse_logger_csv(
      "\xEF\xBB\xBF\"Zeit\";\"Temperatur\"\r\n"  // 1 header (after a byte order mark)
      "\"2026-07-01 08:00\";\"4,5\"\r\n"         // 2
      "2026-07-01 08:05:30;4.5\r\n"              // 3 good
      "\r\n"                                     // 4 blank
      "2026-02-30 08:10;4.6\r\n"                 // 5
      "2026-07-01 08:10;abc\r\n"                 // 6
      "2026-07-01 08:15;4.7;x\r\n"               // 7
      "2026-07-01 08:04;4.8\r\n"                 // 8
      "2026-07-01;4.9\r\n"                       // 9
      "2026-07-01T10:20:00+02:00;+5.1\r\n"       // 10 good: 08:20 UTC
      "2026-07-01 08:25;\r\n");                  // 11
  EXPECT_TRUE(f.has_header);
  EXPECT_EQ(f.separator, ';');
  EXPECT_THAT(
      problems(f),
      ElementsAre(
          std::pair{2,
                    std::string("temperature \"4,5\" uses a decimal comma; use a decimal point")},
          std::pair{5, std::string("timestamp \"2026-02-30 08:10\" is not RFC 3339 or "
                                   "YYYY-MM-DD HH:MM[:SS] (or is not a real date and time)")},
          std::pair{6, std::string("temperature \"abc\" is not a number")},
          std::pair{7, std::string("expected 2 fields (timestamp, °C) separated by ';', got 3")},
          std::pair{8, std::string("timestamp 2026-07-01T08:04:00.000Z is not after line 3's "
                                   "2026-07-01T08:05:30.000Z")},
          std::pair{9, std::string("timestamp \"2026-07-01\" needs a date and a time of day")},
          std::pair{11, std::string("temperature is empty")}));
  ASSERT_EQ(f.rows.size(), 2u);
  EXPECT_EQ(f.rows[0].line, 3);
  EXPECT_EQ(f.rows[0].unix_ms, utc("2026-07-01T08:05:30Z"));  // no zone: taken as UTC
  EXPECT_EQ(f.rows[0].celsius, 4.5);
  EXPECT_EQ(f.rows[1].line, 10);
  EXPECT_EQ(f.rows[1].unix_ms, utc("2026-07-01T08:20:00Z"));
  EXPECT_EQ(f.rows[1].celsius, 5.1);
}

TEST(LoggerCsv, HeaderIsOptionalAndAMalformedFirstReadingIsNotTakenForOne) {
  auto f = parse_logger_csv("2026-07-01 08:00,4.0\n2026-07-01 08:01,4.1\n");
  EXPECT_FALSE(f.has_header);
  EXPECT_EQ(f.rows.size(), 2u);
  auto bad = parse_logger_csv("2026-13-01 08:00,4.0\n");
  EXPECT_FALSE(bad.has_header);
  ASSERT_EQ(bad.problems.size(), 1u);
  EXPECT_EQ(bad.problems[0].line, 1);
  EXPECT_TRUE(parse_logger_csv("").rows.empty());
}

TEST(LoggerCsv, EvaluationGivesExcursionsEventsAndMkt) {
  auto result = evaluate_logger(parse_logger_csv(kExcursionFile), pharma(), ProbeCheck{}, 3600);
  // Beyond 8 °C from 08:20; 30 minutes later (08:50) the alarm; 6 °C at 09:00 clears it and
  // is also clear of the warning band (8 - 1 - 0.5 = 6.5), so no warning_cleared follows.
  ASSERT_THAT(kinds(result.events),
              ElementsAre(EventKind::kWarning, EventKind::kAlarm, EventKind::kCleared));
  EXPECT_EQ(result.events[0].at.wall_ms, utc("2026-07-01T08:20:00Z"));
  EXPECT_EQ(result.events[1].at.wall_ms, utc("2026-07-01T08:50:00Z"));
  EXPECT_EQ(result.events[2].at.wall_ms, utc("2026-07-01T09:00:00Z"));
  ASSERT_EQ(result.excursions.size(), 1u);
  const auto& e = result.excursions[0];
  EXPECT_EQ(e.start.wall_ms, utc("2026-07-01T08:20:00Z"));
  ASSERT_TRUE(e.end);
  EXPECT_EQ(e.end->wall_ms, utc("2026-07-01T09:00:00Z"));
  EXPECT_EQ(e.peak_c, 10.0);
  EXPECT_TRUE(e.alarmed);
  // 1 °C beyond for 10 min (9 °C at 08:20) + 2 °C beyond for 30 min (10 °C, 08:30-09:00).
  EXPECT_NEAR(e.degree_minutes, 70.0, 1e-9);
  // Eight readings of 10 minutes each: MKT of 5, 5, 9, 10, 10, 10, 6, 5 = 7.8105 °C
  // (arithmetic mean 7.5).
  ASSERT_TRUE(result.mkt_c);
  EXPECT_NEAR(*result.mkt_c, 7.8105, 1e-4);
  EXPECT_DOUBLE_EQ(result.covered_s, 8 * 600.0);
}

TEST(LoggerCsv, AnExcursionStillOpenAtTheEndOfTheFileIsReturnedOpen) {
  auto result = evaluate_logger(parse_logger_csv("2026-07-01 08:00,5\n2026-07-01 08:10,9\n"),
                                pharma(), ProbeCheck{}, 3600);
  ASSERT_EQ(result.excursions.size(), 1u);
  EXPECT_FALSE(result.excursions[0].end);
  EXPECT_THAT(kinds(result.events), ElementsAre(EventKind::kWarning));
}

TEST(LoggerCsv, GapsAndImplausibleRowsAreVisibleAndLeftOutOfTheMkt) {
  auto file = parse_logger_csv(
      "2026-07-01 08:00,5\n"
      "2026-07-01 08:10,5\n"
      "2026-07-01 08:20,150\n"  // a logger glitch: beyond the plausible range (125)
      "2026-07-01 10:10,5\n"    // two hours after the last good reading
      "2026-07-01 10:20,5\n");
  auto result = evaluate_logger(file, pharma(), ProbeCheck{}, 3600);
  // A logger that recorded nothing for longer than the gap limit is a probe failure, as a live
  // probe would be: alarm when it went quiet, cleared when it came back.
  ASSERT_THAT(kinds(result.events), ElementsAre(EventKind::kProbeOffline, EventKind::kAlarm,
                                                EventKind::kProbeOnline, EventKind::kCleared));
  EXPECT_EQ(result.events[0].at.wall_ms, utc("2026-07-01T09:10:00Z"));  // 08:10 + 1 h
  EXPECT_EQ(result.events[1].cause, AlarmCause::kProbeFailure);
  EXPECT_EQ(result.events[2].at.wall_ms, utc("2026-07-01T10:10:00Z"));
  ASSERT_EQ(result.excursions.size(), 1u);
  EXPECT_EQ(result.excursions[0].type, AlarmType::kProbeFailure);
  EXPECT_EQ(result.excursions[0].start.wall_ms, utc("2026-07-01T09:10:00Z"));
  ASSERT_TRUE(result.excursions[0].end);
  EXPECT_EQ(result.excursions[0].end->wall_ms, utc("2026-07-01T10:10:00Z"));
  // 600 s + 3600 s (08:10 capped at the 1 h gap limit) + 600 s + 600 s.
  EXPECT_DOUBLE_EQ(result.covered_s, 5400.0);
  EXPECT_NEAR(*result.mkt_c, 5.0, 1e-9);
}

// The trial: an ultra-low freezer (-90…-60 °C) never alarmed on a -56 °C logger reading,
// because the DS18B20's -55…125 range was applied to logger files and the row vanished without
// a word. A logger's range follows the zone, and every dropped row is named.
TEST(LoggerCsv, AnUltraLowFreezerFileIsJudgedInItsOwnRangeAndDropsAreNamed) {
  Zone ult;
  ult.id = "ult-1";
  ult.min_c = -90.0;
  ult.max_c = -60.0;
  ult.alarm_delay_s = 600;
  const ProbeCheck check = logger_check(ult);
  EXPECT_DOUBLE_EQ(check.plausible_min_c, -150.0);
  EXPECT_DOUBLE_EQ(check.plausible_max_c, 100.0);
  auto result = evaluate_logger(parse_logger_csv("time,c\n"
                                                 "2026-07-01 08:00,-80\n"
                                                 "2026-07-01 08:05,-56\n"
                                                 "2026-07-01 08:10,-300\n"  // line 4: a glitch
                                                 "2026-07-01 08:15,-56\n"
                                                 "2026-07-01 08:20,-56\n"),
                                ult, check, 3600);
  ASSERT_EQ(result.excursions.size(), 1u);
  EXPECT_EQ(result.excursions[0].side, Side::kHigh);
  EXPECT_DOUBLE_EQ(result.excursions[0].peak_c, -56.0);
  EXPECT_TRUE(result.excursions[0].alarmed);  // 08:05 + 10 min
  ASSERT_EQ(result.dropped.size(), 1u);
  EXPECT_EQ(result.dropped[0].line, 4);
  EXPECT_THAT(result.dropped[0].reason, ::testing::HasSubstr("-300"));
  // A pharma fridge keeps the old glitch filter: 150 °C is beyond 8 + 60.
  EXPECT_DOUBLE_EQ(logger_check(pharma()).plausible_max_c, 100.0);
}

TEST(LoggerCsv, TheProbeCheckOffsetApplies) {
  auto result = evaluate_logger(parse_logger_csv("2026-07-01 08:00,7.6\n2026-07-01 08:10,7.6\n"),
                                pharma(), ProbeCheck{0.5, -55, 125}, 3600);
  // 7.6 + 0.5 = 8.1: beyond the limit.
  ASSERT_EQ(result.excursions.size(), 1u);
  EXPECT_NEAR(result.excursions[0].peak_c, 8.1, 1e-9);
}

// Found by fuzz.logger_csv: a file spanning six centuries overflowed the nanosecond time line.
TEST(LoggerCsv, AYearOutsideThePresentIsABadLine) {
  auto file = parse_logger_csv("2026-07-01T08:00:00Z,-19.5\n2635-07-01T08:05:00Z,-17\n");
  ASSERT_EQ(file.rows.size(), 1u);
  ASSERT_EQ(file.problems.size(), 1u);
  EXPECT_EQ(file.problems[0].line, 2);
  EXPECT_EQ(file.problems[0].reason, "timestamp 2635-07-01T08:05:00.000Z is outside 1970-2199");
}

}  // namespace
}  // namespace depot::coldchain
