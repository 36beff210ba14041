// The report as an auditor gets it: rendered by headless Chromium (Debian `chromium`) to PDF
// and PNG, and its parsed DOM checked against figures queried straight from the SQLite file
// (per-day min/max/mean, MKT computed with the core MKT function from the stored readings,
// the acknowledger, the audit chain's head). ctest label `chromium`; skipped (with the reason)
// where chromium is not installed. Each chromium run is bounded (60 s) and killed by its
// process group when it overruns; its profile lives in the test's temporary directory.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/coldchain/mkt.hpp"
#include "report_seed.hpp"

namespace depot::test {
namespace {
using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string chromium_path() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (::access(p, X_OK) == 0) return p;
  return "";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Rendered {
  int code = -1;
  bool timed_out = false;
  std::string out;  // stdout (the DOM for --dump-dom)
};

// Runs chromium headless with `args` and the page, stdout to a file, stderr discarded;
// bounded by `limit`, then its whole process group is killed.
Rendered run_chromium(const std::string& dir, const std::vector<std::string>& args,
                      const std::string& page, std::chrono::seconds limit) {
  const std::string out_file = dir + "/chromium.out";
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    int o = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int n = ::open("/dev/null", O_WRONLY);
    dup2(o, 1);
    dup2(n, 2);
    std::vector<std::string> all{chromium_path(),           "--headless",
                                 "--disable-gpu",           "--no-sandbox",
                                 "--no-first-run",          "--disable-extensions",
                                 "--disable-dev-shm-usage", "--user-data-dir=" + dir + "/profile"};
    all.insert(all.end(), args.begin(), args.end());
    all.push_back("file://" + page);
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  setpgid(pid, pid);
  Rendered r;
  const auto end = std::chrono::steady_clock::now() + limit;
  int status = 0;
  for (;;) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    if (std::chrono::steady_clock::now() >= end) {
      r.timed_out = true;
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  kill(-pid, SIGKILL);  // helpers chromium left behind, if any (its own group only)
  r.out = slurp(out_file);
  return r;
}

// Per-day figures of one probe straight from SQLite, and its MKT computed here from the stored
// readings with the core MKT function (each reading weighted until the next, at most
// `max_hold_s`, never past `to_ms`).
struct DbFigures {
  double min = 0, max = 0, mean = 0, mkt = 0;
};
DbFigures figures(const std::string& db, const std::string& probe, std::int64_t from_ms,
                  std::int64_t to_ms, double max_hold_s) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(raw,
                     "SELECT MIN(celsius), MAX(celsius), AVG(celsius) FROM readings WHERE probe = "
                     "?1 AND quality = 'good' AND wall_ms >= ?2 AND wall_ms < ?3",
                     -1, &s, nullptr);
  sqlite3_bind_text(s, 1, probe.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 2, from_ms);
  sqlite3_bind_int64(s, 3, to_ms);
  DbFigures f;
  EXPECT_EQ(sqlite3_step(s), SQLITE_ROW);
  f.min = sqlite3_column_double(s, 0);
  f.max = sqlite3_column_double(s, 1);
  f.mean = sqlite3_column_double(s, 2);
  sqlite3_finalize(s);
  sqlite3_prepare_v2(raw,
                     "SELECT wall_ms, celsius FROM readings WHERE probe = ?1 AND quality = 'good' "
                     "AND wall_ms >= ?2 AND wall_ms < ?3 ORDER BY wall_ms",
                     -1, &s, nullptr);
  sqlite3_bind_text(s, 1, probe.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 2, from_ms);
  sqlite3_bind_int64(s, 3, to_ms);
  std::vector<std::pair<std::int64_t, double>> rows;
  while (sqlite3_step(s) == SQLITE_ROW)
    rows.emplace_back(sqlite3_column_int64(s, 0), sqlite3_column_double(s, 1));
  sqlite3_finalize(s);
  sqlite3_close(raw);
  std::vector<coldchain::WeightedTemperature> w;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::int64_t until = i + 1 < rows.size() ? rows[i + 1].first : to_ms;
    w.push_back({rows[i].second,
                 std::min(static_cast<double>(until - rows[i].first) / 1000.0, max_hold_s)});
  }
  f.mkt = coldchain::mean_kinetic_temperature(w).value_or(-999);
  return f;
}

std::string db_text(const std::string& db, const char* sql) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(raw, sql, -1, &s, nullptr), SQLITE_OK) << sql;
  std::string v;
  if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
    v = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(raw);
  return v;
}

std::string two(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

TEST(ReportRender, ChromiumPrintsItToPdfAndPngWithTheDatabasesFigures) {
  if (chromium_path().empty())
    GTEST_SKIP() << "chromium is not installed (scripts/bootstrap installs it): the report is "
                    "not rendered here";
  TempDir dir;
  const auto db = dir.file("agent.db"), cfg = dir.file("agent.json");
  write_file(cfg, report_config(db));
  seed_report_db(db, cfg);
  if (HasFatalFailure()) return;
  const auto page = dir.file("report.html");
  auto r = run_agent({"report", "--zone", "pharma-1", "--from", "2026-07-01", "--to", "2026-07-02",
                      "--out", page, "-c", cfg});
  ASSERT_EQ(r.code, 0) << r.err;

  const auto pdf = dir.file("report.pdf"), png = dir.file("report.png");
  auto p = run_chromium(dir.path().string(), {"--no-pdf-header-footer", "--print-to-pdf=" + pdf},
                        page, 60s);
  ASSERT_FALSE(p.timed_out) << "chromium --print-to-pdf did not finish within 60 s";
  ASSERT_EQ(p.code, 0);
  const auto pdf_bytes = slurp(pdf);
  ASSERT_GT(pdf_bytes.size(), 10'000u);
  EXPECT_EQ(pdf_bytes.substr(0, 5), "%PDF-");
  // The print stylesheet was applied: A4 landscape pages (842 x 595 pt).
  EXPECT_NE(pdf_bytes.find("/MediaBox [0 0 841.9"), std::string::npos)
      << "no A4 landscape page in the PDF";

  p = run_chromium(dir.path().string(),
                   {"--window-size=1100,2400", "--hide-scrollbars", "--screenshot=" + png}, page,
                   60s);
  ASSERT_FALSE(p.timed_out) << "chromium --screenshot did not finish within 60 s";
  ASSERT_EQ(p.code, 0);
  const auto png_bytes = slurp(png);
  ASSERT_GT(png_bytes.size(), 20'000u);
  EXPECT_EQ(png_bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));

  p = run_chromium(dir.path().string(), {"--dump-dom"}, page, 60s);
  ASSERT_FALSE(p.timed_out) << "chromium --dump-dom did not finish within 60 s";
  ASSERT_EQ(p.code, 0);
  const auto& dom = p.out;
  ASSERT_THAT(dom, HasSubstr("</svg>"));  // the inline SVG was parsed as such
  const auto day_from = t_ms("2026-07-01T00:00:00Z"), day_to = t_ms("2026-07-02T00:00:00Z");
  for (const char* probe : {"p1", "p2"}) {
    auto f = figures(db, probe, day_from, day_to, 600.0);
    const std::string row = "data-probe=\"" + std::string(probe) + "\" data-day=\"2026-07-01\"";
    const auto at = dom.find(row);
    ASSERT_NE(at, std::string::npos) << probe;
    const auto tr = dom.substr(at, dom.find("</tr>", at) - at);
    EXPECT_THAT(tr, HasSubstr("<td class=\"n min\">" + two(f.min) + "</td>")) << tr;
    EXPECT_THAT(tr, HasSubstr("<td class=\"n max\">" + two(f.max) + "</td>")) << tr;
    EXPECT_THAT(tr, HasSubstr("<td class=\"n mean\">" + two(f.mean) + "</td>")) << tr;
    EXPECT_THAT(tr, HasSubstr("<td class=\"n mkt\">" + two(f.mkt) + "</td>")) << tr;
  }
  EXPECT_EQ(two(figures(db, "p1", day_from, day_to, 600.0).max), "10.00");
  const auto who = db_text(db, "SELECT who FROM late_acks");
  ASSERT_EQ(who, kReportAckWho);
  EXPECT_THAT(dom, HasSubstr("<td class=\"who\">Ana &lt;QA&gt; &amp; Co</td>"));
  const auto head = db_text(db, "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1");
  ASSERT_EQ(head.size(), 64u);
  EXPECT_THAT(dom, HasSubstr("id=\"audit-head\">" + head + "</code>"));
  EXPECT_THAT(dom, HasSubstr("All times in this report are UTC"));
}

}  // namespace
}  // namespace depot::test
