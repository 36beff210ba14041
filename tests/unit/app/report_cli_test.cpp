// `depot-agent report` and `readings` through the real binary on a seeded database: the
// report holds the figures, the late acknowledgement (escaped), the hold's outcome, the
// calibration status and the audit head; bad periods are refused naming the option; an empty
// period says so; the CSV export has one line per reading; both work while the daemon runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent_process.hpp"
#include "report_seed.hpp"
#include "test_support.hpp"

namespace depot::test {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string audit_head_hash(const std::string& db) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(raw, "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1", -1, &s, nullptr);
  std::string h;
  if (sqlite3_step(s) == SQLITE_ROW) h = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(raw);
  return h;
}

class ReportCli : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.file("agent.db");
    cfg_ = dir_.file("agent.json");
    write_file(cfg_, report_config(db_));
  }
  TempDir dir_;
  std::string db_, cfg_;
};

TEST_F(ReportCli, TheReportHoldsFiguresAcksHoldsCalibrationAndTheAuditHead) {
  seed_report_db(db_, cfg_);
  if (HasFatalFailure()) return;
  const auto out = dir_.file("report.html");
  auto r = run_agent({"report", "--zone", "pharma-1", "--from", "2026-07-01", "--to",
                      "2026-07-02T00:00:00Z", "--out", out, "-c", cfg_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(25 readings, 1 alarm) to " + out));
  const auto html = slurp(out);
  // p1 on 2026-07-01: min 5, max 10, mean of the twelve rows 8.475.
  EXPECT_THAT(html, HasSubstr("<tr data-probe=\"p1\" data-day=\"2026-07-01\"><td>2026-07-01</td>"
                              "<td>p1</td><td class=\"n\">12</td><td class=\"n min\">5.00</td>"
                              "<td class=\"n max\">10.00</td><td class=\"n mean\">8.47</td>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"who\">Ana &lt;QA&gt; &amp; Co</td>"));
  EXPECT_THAT(html, HasSubstr("door &quot;left&quot; open during loading"));
  EXPECT_THAT(html, HasSubstr("door alarm fitted; staff briefed"));
  EXPECT_THAT(html, HasSubstr("(after the alarm ended)"));
  EXPECT_THAT(html, HasSubstr(kReportExcursion));
  EXPECT_THAT(html, HasSubstr("<td class=\"outcome\">open (released 4; 6 on hold)</td>"));
  EXPECT_THAT(html, HasSubstr("CAL-2025-017</td><td>2025-01-10</td><td>2026-01-10</td><td "
                              "class=\"bad\">OVERDUE"));
  EXPECT_THAT(html, HasSubstr("CAL-2026-4</td><td>2026-06-01</td><td>2099-06-01</td><td "
                              "class=\"ok\">in date"));
  const auto head = audit_head_hash(db_);
  ASSERT_EQ(head.size(), 64u);
  EXPECT_THAT(html, HasSubstr("<code class=\"hash\" id=\"audit-head\">" + head + "</code>"));
  EXPECT_THAT(html, HasSubstr("Chain verified"));
  EXPECT_THAT(html, HasSubstr("All times in this report are UTC"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_FALSE(std::filesystem::exists(out + ".tmp"));

  // An alarm still open (as the daemon last saved the zone): p2's probe_failure since 08:57,
  // unacknowledged, shaded grey on p2's chart only.
  {
    namespace cc = coldchain;
    cc::Excursion f;
    f.seq = 2;
    f.type = cc::AlarmType::kProbeFailure;
    f.zone = "pharma-1";
    f.start = {3'420'000'000'000, t_ms("2026-07-01T08:57:00Z"), false};
    f.peak_probe = "p2";
    f.alarmed = true;
    f.alarm_at = f.start;
    f.cause = cc::AlarmCause::kProbeFailure;
    auto x = store::excursion_json(f, "pharma-1/probe_failure:p2/run-1/2", 3'500'000'000'000);
    nlohmann::json state{
        {"zone", "pharma-1"}, {"level", "alarm"}, {"open_excursions", nlohmann::json::array({x})}};
    auto db = store::Database::open(db_, {});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(store::save_zone_state(**db, "pharma-1", state, t_ms("2026-07-01T09:00:00Z")).ok());
  }
  r = run_agent({"report", "--zone", "pharma-1", "--from", "2026-07-01", "--to", "2026-07-02",
                 "--out", out, "-c", cfg_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(25 readings, 2 alarms)"));
  const auto with_open = slurp(out);
  EXPECT_THAT(with_open, HasSubstr("probe failure: p2, cause probe_failure</td><td>"
                                   "2026-07-01T08:57:00.000Z</td><td><b>open</b>"));
  EXPECT_THAT(with_open, HasSubstr("NOT ACKNOWLEDGED"));
  const auto p1_chart = with_open.find("<figure class=\"chart\" data-probe=\"p1\"");
  const auto p2_chart = with_open.find("<figure class=\"chart\" data-probe=\"p2\"");
  ASSERT_NE(p1_chart, std::string::npos);
  ASSERT_NE(p2_chart, std::string::npos);
  EXPECT_EQ(with_open.substr(p1_chart, p2_chart - p1_chart).find("shade-failure"),
            std::string::npos);
  EXPECT_NE(with_open.find("shade-failure", p2_chart), std::string::npos);

  // An empty period is a report that says so.
  r = run_agent({"report", "--zone", "pharma-1", "--from", "2026-08-01", "--to", "2026-08-02",
                 "--out", dir_.file("empty.html"), "-c", cfg_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(slurp(dir_.file("empty.html")), HasSubstr("No readings in this period."));
}

TEST_F(ReportCli, BadPeriodsZonesAndOptionsAreRefusedNamingTheField) {
  const auto out = dir_.file("r.html");
  auto r = run_agent({"report", "--zone", "pharma-1", "--from", "2026-07-02", "--to", "2026-07-01",
                      "--out", out, "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("report: --from: 2026-07-02T00:00:00.000Z must be before --to "
                               "2026-07-01T00:00:00.000Z"));
  r = run_agent({"report", "--zone", "pharma-1", "--from", "yesterday", "--to", "now", "--out", out,
                 "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--from: \"yesterday\" must be an RFC 3339 time"));
  r = run_agent({"report", "--zone", "pharma-1", "--from", "2026-02-30", "--to", "now", "--out",
                 out, "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--from: \"2026-02-30\""));
  r = run_agent({"report", "--zone", "pharma-1", "--from", "2020-01-01", "--to", "2026-01-01",
                 "--out", out, "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--to: the period"));
  r = run_agent(
      {"report", "--zone", "freezer-9", "--from", "1d", "--to", "now", "--out", out, "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--zone: \"freezer-9\" is not a configured zone (configured: "
                               "pharma-1)"));
  r = run_agent({"report", "--zone", "pharma-1", "--from", "1d", "--to", "now", "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--out: required"));
  r = run_agent({"report", "--zone", "pharma-1", "--to", "now", "--out", out, "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--from: required"));
  r = run_agent({"readings", "--zone", "pharma-1", "--from", "1d", "--to", "now", "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--csv: required"));
  r = run_agent({"report", "--zone", "pharma-1", "--from", "1d", "--to", "now", "--out",
                 dir_.file("no/such/dir/r.html"), "-c", cfg_});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--out: cannot write"));
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(ReportCli, ReadingsExportOneCsvLinePerReading) {
  seed_report_db(db_, cfg_);
  if (HasFatalFailure()) return;
  auto r = run_agent({"readings", "--zone", "pharma-1", "--from", "2026-07-01T08:00:00Z", "--to",
                      "2026-07-01T08:10:00Z", "--csv", "-c", cfg_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "time_utc,probe,zone,celsius,quality,reason,clock_unsynchronized,measures\n"
            "2026-07-01T08:00:00.000Z,p1,pharma-1,5,good,,0,temperature\n"
            "2026-07-01T08:00:00.000Z,p2,pharma-1,5,good,,0,temperature\n"
            "2026-07-01T08:02:30.000Z,p2,pharma-1,,crc_failed,\"CRC mismatch, retry\",0,temperature\n"
            "2026-07-01T08:05:00.000Z,p1,pharma-1,7.5,good,,0,temperature\n"
            "2026-07-01T08:05:00.000Z,p2,pharma-1,5,good,,0,temperature\n");
  const auto file = dir_.file("readings.csv");
  r = run_agent({"readings", "--zone", "pharma-1", "--from", "2026-07-01", "--to", "2026-07-02",
                 "--csv", "--out", file, "-c", cfg_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("wrote 25 readings of zone pharma-1 to " + file));
  const auto text = slurp(file);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 26);
}

// The daemon holds the database open for writing; report and readings open it read-only.
TEST_F(ReportCli, BothRunWhileTheDaemonWrites) {
  write_file(cfg_, R"({
  "site": "test-site", "gateway": "gw-1", "database": ")" +
                       db_ + R"(",
  "zones": [{"id": "pharma-1", "min_c": 2, "max_c": 8}],
  "sensors": [{"id": "p1", "zone": "pharma-1", "driver": "sim", "read_interval_s": 1,
               "offline_after_s": 3, "sim": {"profile": "constant", "base_c": 5.25}}]
})");
  AgentProcess agent(cfg_, dir_.file("agent.log"));
  ASSERT_TRUE(agent.wait_for_log("cold chain: 1 zone(s), 1 probe(s)", 20s)) << agent.log();
  test::Run r;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  int lines = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    r = run_agent(
        {"readings", "--zone", "pharma-1", "--from", "1h", "--to", "now", "--csv", "-c", cfg_});
    ASSERT_EQ(r.code, 0) << r.err;
    lines = static_cast<int>(std::count(r.out.begin(), r.out.end(), '\n'));
    if (lines >= 4) break;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_GE(lines, 4) << r.out << agent.log();
  EXPECT_THAT(r.out, HasSubstr(",p1,pharma-1,5.25,good,,"));
  const auto out = dir_.file("live.html");
  r = run_agent(
      {"report", "--zone", "pharma-1", "--from", "1h", "--to", "now", "--out", out, "-c", cfg_});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto html = slurp(out);
  EXPECT_THAT(html, HasSubstr("<td class=\"n min\">5.25</td><td class=\"n max\">5.25</td>"));
  EXPECT_THAT(html, HasSubstr("<polyline class=\"series\""));
  EXPECT_EQ(agent.stop(), 0) << agent.log();
}

}  // namespace
}  // namespace depot::test
