// The audit report's model (daily min/max/mean and MKT with worked numbers, charts bounded and
// split at gaps, hold outcomes) and its HTML (escaped, self-contained, empty period said).
#include "core/coldchain/report.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "core/coldchain/mkt.hpp"
#include "core/coldchain/report_html.hpp"
#include "core/time.hpp"
#include "core/tz.hpp"

namespace depot::coldchain {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;

std::int64_t at(const char* t) { return *timefmt::parse_rfc3339_ms(t); }

// One probe, max hold 60 s, over 2026-07-01 00:00 to 2026-07-03 12:00 (UTC):
//   2026-06-30T23:00:00  100.0  before the period: ignored
//   2026-07-01T23:59:00    4.0  stands 30 s (to the next reading)
//   2026-07-01T23:59:30    6.0  stands 60 s: 30 s on July 1, 30 s on July 2
//   2026-07-02T00:00:30    8.0  stands 60 s (the next is 9.5 min later: held 60 s at most)
//   2026-07-02T00:10:00    2.0  stands 60 s (the last one: held 60 s at most)
// July 1: min 4, max 6, mean 5, MKT of {4 °C 30 s, 6 °C 30 s} = 5.0609 °C over 60 s.
// July 2: min 2, max 8, mean 5, MKT of {6 °C 30 s, 8 °C 60 s, 2 °C 60 s} = 5.6313 °C over 150 s.
// Period: min 2, max 8, mean 5, MKT of all four = 5.4723 °C over 210 s. July 3: no readings.
ReportInput worked() {
  ReportInput in;
  in.zone.id = "pharma-1";
  in.zone.min_c = 2.0;
  in.zone.max_c = 8.0;
  in.from_ms = at("2026-07-01T00:00:00Z");
  in.to_ms = at("2026-07-03T12:00:00Z");
  in.generated_ms = at("2026-07-04T00:00:00Z");
  ReportProbeInput p;
  p.id = "p1";
  p.max_hold_ms = 60'000;
  p.good = {{at("2026-06-30T23:00:00Z"), 100.0},
            {at("2026-07-01T23:59:00Z"), 4.0},
            {at("2026-07-01T23:59:30Z"), 6.0},
            {at("2026-07-02T00:00:30Z"), 8.0},
            {at("2026-07-02T00:10:00Z"), 2.0}};
  p.calibration = Calibration{"CERT-7", at("2025-07-01T00:00:00Z"), at("2026-07-01T00:00:00Z")};
  in.probes.push_back(p);
  return in;
}

TEST(Report, DailyMinMaxMeanAndMktWorkedByHand) {
  auto m = build_report(worked());
  ASSERT_TRUE(m.has_readings);
  ASSERT_EQ(m.days.size(), 3u);
  const auto& d1 = m.days[0];
  EXPECT_EQ(d1.day_ms, at("2026-07-01T00:00:00Z"));
  EXPECT_EQ(d1.readings, 2);
  EXPECT_DOUBLE_EQ(*d1.min_c, 4.0);
  EXPECT_DOUBLE_EQ(*d1.max_c, 6.0);
  EXPECT_DOUBLE_EQ(*d1.mean_c, 5.0);
  EXPECT_DOUBLE_EQ(d1.covered_s, 60.0);
  EXPECT_NEAR(*d1.mkt_c, 5.0609, 1e-4);
  EXPECT_NEAR(*d1.mkt_c, *mean_kinetic_temperature({{4.0, 30.0}, {6.0, 30.0}}), 1e-12);
  const auto& d2 = m.days[1];
  EXPECT_EQ(d2.readings, 2);
  EXPECT_DOUBLE_EQ(*d2.min_c, 2.0);
  EXPECT_DOUBLE_EQ(*d2.max_c, 8.0);
  EXPECT_DOUBLE_EQ(*d2.mean_c, 5.0);
  EXPECT_DOUBLE_EQ(d2.covered_s, 150.0);
  EXPECT_NEAR(*d2.mkt_c, 5.6313, 1e-4);
  EXPECT_NEAR(*d2.mkt_c, *mean_kinetic_temperature({{6.0, 30.0}, {8.0, 60.0}, {2.0, 60.0}}), 1e-12);
  const auto& d3 = m.days[2];
  EXPECT_EQ(d3.readings, 0);
  EXPECT_FALSE(d3.min_c);
  EXPECT_FALSE(d3.mkt_c);
  ASSERT_EQ(m.totals.size(), 1u);
  EXPECT_DOUBLE_EQ(*m.totals[0].min_c, 2.0);
  EXPECT_DOUBLE_EQ(*m.totals[0].max_c, 8.0);
  EXPECT_DOUBLE_EQ(*m.totals[0].mean_c, 5.0);
  EXPECT_DOUBLE_EQ(m.totals[0].covered_s, 210.0);
  EXPECT_NEAR(*m.totals[0].mkt_c, 5.4723, 1e-4);
  // Calibration due 2026-07-01: overdue from 2026-07-02 on.
  ASSERT_EQ(m.calibrations.size(), 1u);
  EXPECT_TRUE(m.calibrations[0].overdue);
  // The chart: split where the probe was silent longer than its hold (00:00:30 -> 00:10:00).
  ASSERT_EQ(m.charts.size(), 1u);
  ASSERT_EQ(m.charts[0].segments.size(), 2u);
  EXPECT_EQ(m.charts[0].segments[0].size(), 3u);
  EXPECT_EQ(m.charts[0].segments[1].size(), 1u);
  EXPECT_LT(m.y_min_c, 2.0);  // the scale holds the data and both limits
  EXPECT_GT(m.y_max_c, 8.0);
}

// What the CLI does: the readings fed one at a time, interleaved across probes, and a probe
// that is no longer configured added on the way.
// The daily figures follow the site's calendar. In Berlin (UTC+2 in July) the same readings
// fall on other days: local midnight of 2 July is 2026-07-01T22:00Z, so all four readings
// (23:59Z to 00:10Z, i.e. 01:59 to 02:10 local) are on 2 July, and the period's first local
// day starts at 2026-06-30T22:00Z (1 July 00:00 local).
TEST(Report, DailyFiguresAreSiteLocalDays) {
  auto in = worked();
  std::ifstream f("/usr/share/zoneinfo/Europe/Berlin", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto zone = tz::parse_tzif("Europe/Berlin", bytes);
  ASSERT_TRUE(zone.ok());
  in.site_zone = *zone;
  auto m = build_report(in);
  ASSERT_EQ(m.days.size(), 3u);  // 1, 2 and 3 July (local), the period ends 3 July 14:00
  EXPECT_EQ(m.days[0].date, "2026-07-01");
  EXPECT_EQ(m.days[0].day_ms, at("2026-06-30T22:00:00Z"));
  EXPECT_EQ(m.days[0].readings, 0);
  EXPECT_EQ(m.days[1].date, "2026-07-02");
  EXPECT_EQ(m.days[1].readings, 4);
  EXPECT_DOUBLE_EQ(*m.days[1].min_c, 2.0);
  EXPECT_DOUBLE_EQ(*m.days[1].max_c, 8.0);
  EXPECT_DOUBLE_EQ(m.days[1].covered_s, 210.0);  // nothing split at UTC midnight any more
  EXPECT_THAT(render_report_html(m, "test"), HasSubstr("Daily figures (site days, Europe/Berlin)"));
}

TEST(Report, FedOneReadingAtATimeItGivesTheSameFigures) {
  auto in = worked();
  const auto readings = in.probes[0].good;
  in.probes[0].good.clear();
  ReportBuilder b(in);
  std::size_t old = 0;
  for (const auto& q : readings) {
    b.add(0, q);
    if (q.wall_ms == at("2026-07-01T23:59:30Z")) {
      ReportProbeInput gone;
      gone.id = "p-old";
      gone.max_hold_ms = 60'000;
      old = b.add_probe(gone);
      b.add(old, {q.wall_ms, 3.0});
      b.count_rejected(old);
    }
  }
  auto m = b.finish();
  auto ref = build_report(worked());
  ASSERT_EQ(m.in.probes.size(), 2u);
  EXPECT_EQ(m.in.probes[1].rejected, 1);
  EXPECT_EQ(m.days.size(), 6u);  // 3 days x 2 probes
  EXPECT_EQ(m.days[0].probe, "p1");
  EXPECT_DOUBLE_EQ(*m.days[0].mkt_c, *ref.days[0].mkt_c);
  EXPECT_DOUBLE_EQ(*m.days[2].mkt_c, *ref.days[1].mkt_c);
  EXPECT_DOUBLE_EQ(*m.days[1].max_c, 3.0);
  EXPECT_DOUBLE_EQ(m.days[1].covered_s, 30.0);  // 3.0 from 23:59:30, to midnight only
  EXPECT_DOUBLE_EQ(m.days[3].covered_s, 30.0);  // and on to 00:00:30
  EXPECT_DOUBLE_EQ(*m.totals[0].mkt_c, *ref.totals[0].mkt_c);
}

TEST(Report, TheLastReadingStandsNoLongerThanThePeriod) {
  auto in = worked();
  in.to_ms = at("2026-07-02T00:10:20Z");  // 2.0 stands 20 s, not 60 s
  auto m = build_report(in);
  EXPECT_DOUBLE_EQ(m.totals[0].covered_s, 170.0);
}

TEST(Report, AChartKeepsEveryPeakWithABoundedNumberOfPoints) {
  ReportInput in;
  in.zone.id = "z";
  in.from_ms = 0;
  in.to_ms = 7LL * 86'400'000;
  ReportProbeInput p;
  p.id = "p";
  p.max_hold_ms = 30'000;
  for (std::int64_t t = 0; t < in.to_ms; t += 10'000)  // 60,480 readings
    p.good.push_back({t, t == 3LL * 86'400'000 + 5'000'000 ? 30.0 : 4.0});
  in.probes.push_back(p);
  auto m = build_report(in);
  ASSERT_EQ(m.charts[0].segments.size(), 1u);
  const auto& seg = m.charts[0].segments[0];
  EXPECT_LE(seg.size(), 4u * kChartColumns);
  bool peak = false;
  for (const auto& q : seg) peak |= q.celsius == 30.0;
  EXPECT_TRUE(peak);
  EXPECT_EQ(m.days.size(), 7u);
  EXPECT_DOUBLE_EQ(*m.days[3].max_c, 30.0);
}

TEST(Report, HoldOutcomes) {
  ReportHold h{1, "VAX", "x", "2026-07-01T00:00:00.000Z", 10, 0, 0, std::nullopt};
  EXPECT_EQ(hold_outcome(h), "open");
  h.released = 4;
  EXPECT_EQ(hold_outcome(h), "open (released 4; 6 on hold)");
  h.written_off = 6;
  h.closed_at = "2026-07-02T00:00:00.000Z";
  EXPECT_EQ(hold_outcome(h), "released 4, written off 6");
  h.released = 0, h.written_off = 10;
  EXPECT_EQ(hold_outcome(h), "written off");
  h.released = 10, h.written_off = 0;
  EXPECT_EQ(hold_outcome(h), "released");
}

TEST(ReportHtml, EscapesEveryTextAndNeedsNothingFromOutside) {
  auto in = worked();
  in.site = "<site>";
  ReportAlarm a;
  a.id = "pharma-1/high/1";
  a.side = "high";
  a.limit_c = 8.0;
  a.peak_c = 8.0;
  a.start_ms = at("2026-07-02T00:00:30Z");
  a.end_ms = at("2026-07-02T00:01:30Z");
  a.alarmed = true;
  a.alarm_ms = a.start_ms;
  a.cause = "continuous";
  a.ack = ReportAck{"Ana <b>& Bo</b>", "door \"left\" open's", "<script>alert(1)</script>",
                    at("2026-07-02T08:00:00Z"), true};
  in.alarms.push_back(a);
  const auto html = render_report_html(build_report(in), "depot-agent test");
  EXPECT_THAT(html, HasSubstr("Ana &lt;b&gt;&amp; Bo&lt;/b&gt;"));
  EXPECT_THAT(html, HasSubstr("door &quot;left&quot; open&#39;s"));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("&lt;site&gt;"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<b>&")));
  for (const char* external : {" src=", " href=", "url(", "@import", "<link"})
    EXPECT_THAT(html, Not(HasSubstr(external))) << external;
  EXPECT_THAT(html, HasSubstr("@media print"));
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, HasSubstr("All times in this report are UTC"));
  EXPECT_THAT(html, HasSubstr("2026-07-02T08:00:00.000Z (after the alarm ended)"));
  EXPECT_THAT(html, HasSubstr("class=\"shade-alarm\""));
  EXPECT_THAT(html, HasSubstr("<td class=\"n mkt\">5.06</td>"));
  EXPECT_THAT(html, HasSubstr("OVERDUE"));
  EXPECT_THAT(html, Not(HasSubstr("not NTP-synchronised")));
  in.audit = {5,
              5,
              std::string(64, 'a'),
              "2026-07-04T00:00:00.000Z",
              false,
              false,
              "the trail is keyed: <needs the key>"};
  EXPECT_THAT(render_report_html(build_report(in), "t"),
              HasSubstr("The chain could not be verified: the trail is keyed: &lt;needs the "
                        "key&gt;."));
  in.unsynchronized = 3;
  EXPECT_THAT(render_report_html(build_report(in), "t"),
              HasSubstr("3 reading(s) in this period were stamped while the gateway's clock was "
                        "not NTP-synchronised"));
}

TEST(ReportHtml, AnEmptyPeriodSaysSo) {
  auto in = worked();
  in.probes[0].good.clear();
  in.probes[0].calibration.reset();
  const auto html = render_report_html(build_report(in), "depot-agent test");
  EXPECT_THAT(html, HasSubstr("No readings in this period."));
  EXPECT_THAT(html, HasSubstr("No alarm in this period."));
  EXPECT_THAT(html, HasSubstr("No hold in this period."));
  EXPECT_THAT(html, HasSubstr("The audit trail is empty."));
  EXPECT_THAT(html, HasSubstr("no calibration record"));
}

TEST(ReportHtml, DoorOpeningsAreListedBesideTheTemperatureExcursionTheyMayExplain) {
  auto in = worked();
  ReportAlarm x;  // the temperature excursion 00:00:30-00:01:30 (alarmed)
  x.id = "pharma-1/high/1";
  x.side = "high";
  x.limit_c = 8.0;
  x.peak_c = 8.0;
  x.start_ms = at("2026-07-02T00:00:30Z");
  x.end_ms = at("2026-07-02T00:01:30Z");
  x.alarmed = true;
  x.alarm_ms = x.start_ms;
  in.alarms.push_back(x);
  ReportAlarm d;  // door-a open 23:45-23:58 the evening before: ended 2.5 min before it
  d.id = "pharma-1/door/1";
  d.type = "door_open";
  d.probe = "door-a";
  d.start_ms = at("2026-07-01T23:45:00Z");
  d.end_ms = at("2026-07-01T23:58:00Z");
  d.alarmed = true;
  d.alarm_ms = at("2026-07-01T23:50:00Z");
  in.alarms.push_back(d);
  ReportAlarm far = d;  // door-b open at noon: far from any excursion, no alarm
  far.id = "pharma-1/door/2";
  far.probe = "door-b";
  far.start_ms = at("2026-07-02T12:00:00Z");
  far.end_ms = at("2026-07-02T12:01:00Z");
  far.alarmed = false;
  far.alarm_ms.reset();
  in.alarms.push_back(far);
  const auto html = render_report_html(build_report(in), "t");
  EXPECT_THAT(html, HasSubstr("<h2>Door openings</h2>\n<p>2 opening(s), open 14.0 min in all."));
  EXPECT_THAT(html, HasSubstr("<td>door-a</td><td>2026-07-01T23:45:00.000Z</td><td>"
                              "2026-07-01T23:58:00.000Z</td><td class=\"n\">13.0</td><td>yes, at "
                              "2026-07-01T23:50:00.000Z</td><td class=\"beside\">pharma-1/high/1 "
                              "(alarm)</td>"));
  EXPECT_THAT(html, HasSubstr("<td>no</td><td class=\"beside\">-</td>"));
  EXPECT_THAT(html, HasSubstr("door open: door-a"));   // in the alarm table
  EXPECT_THAT(html, HasSubstr("class=\"shade-door\""));  // on the chart
  EXPECT_THAT(html, Not(HasSubstr("Excursions that did not alarm")))
      << "a door opening without alarm is not an excursion";
}

}  // namespace
}  // namespace depot::coldchain
