// A database for the report tests, seeded through the store's own functions and the real
// CLI: zone pharma-1 (2-8 °C) with probes p1 (calibration overdue) and p2 (in date), one
// hour of readings on 2026-07-01 (the worked example of docs/coldchain.md on p1, and a CRC
// failure), one alarmed excursion acknowledged after it ended (with a root cause), and a
// hold on VAX partly released.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent_process.hpp"
#include "core/coldchain/excursion.hpp"
#include "core/time.hpp"
#include "store/coldchain_store.hpp"
#include "store/database.hpp"
#include "store/ledger.hpp"
#include "test_support.hpp"

namespace depot::test {

inline std::string report_config(const std::string& db) {
  return R"({
  "site": "test-site", "gateway": "gw-1", "database": ")" +
         db + R"(",
  "catalog": [{"sku": "VAX", "name": "Vaccine", "barcodes": ["4006381333931"], "zone": "pharma-1"}],
  "zones": [{"id": "pharma-1", "min_c": 2, "max_c": 8, "alarm_delay_s": 1800}],
  "sensors": [
    {"id": "p1", "zone": "pharma-1", "driver": "sim", "read_interval_s": 300,
     "offline_after_s": 600,
     "calibration": {"certificate": "CAL-2025-017", "date": "2025-01-10", "due": "2026-01-10"}},
    {"id": "p2", "zone": "pharma-1", "driver": "sim", "read_interval_s": 300,
     "offline_after_s": 600,
     "calibration": {"certificate": "CAL-2026-4", "date": "2026-06-01", "due": "2099-06-01"}}]
})";
}

inline constexpr const char* kReportAckWho = "Ana <QA> & Co";
inline constexpr const char* kReportAckComment = "door \"left\" open during loading";
inline constexpr const char* kReportRootCause = "door alarm fitted; staff briefed";
inline constexpr const char* kReportExcursion = "pharma-1/high/run-1/1";

inline std::int64_t t_ms(const char* rfc3339) { return *timefmt::parse_rfc3339_ms(rfc3339); }

// Seeds `db_path` (config `cfg`). Fails the test on any error.
inline void seed_report_db(const std::string& db_path, const std::string& cfg) {
  namespace cc = coldchain;
  auto db = store::Database::open(db_path, {});
  ASSERT_TRUE(db.ok()) << db.error().message;
  CatalogItem vax{.sku = "VAX", .name = "Vaccine"};
  vax.zone = "pharma-1";
  ASSERT_TRUE(store::apply_catalog(**db, {vax}, "2026-07-01T00:00:00.000Z").ok());
  // p1: every 5 min from 08:00 (the worked example); p2: steady 5.0 °C; one CRC failure.
  const double p1[] = {5.0, 7.5, 8.5, 9.0, 10.0, 10.0, 10.0, 10.0, 10.0, 7.8, 7.5, 6.4};
  std::vector<store::StoredReading> rows;
  const auto base = t_ms("2026-07-01T08:00:00Z");
  for (int i = 0; i < 12; ++i) {
    cc::Reading r;
    r.probe = "p1";
    r.celsius = p1[i];
    r.wall_ms = base + i * 300'000;
    r.mono_ns = static_cast<std::int64_t>(i) * 300'000'000'000;
    rows.push_back({r, "pharma-1"});
    r.probe = "p2";
    r.celsius = 5.0;
    rows.push_back({r, "pharma-1"});
  }
  cc::Reading bad;
  bad.probe = "p2";
  bad.wall_ms = base + 150'000;
  bad.quality = cc::Quality::kCrcFailed;
  bad.reason = "CRC mismatch, retry";
  rows.push_back({bad, "pharma-1"});
  auto st = (*db)->transaction([&] { return store::insert_readings(**db, rows, false, "", ""); });
  ASSERT_TRUE(st.ok()) << st.error().message;

  cc::Excursion x;
  x.seq = 1;
  x.zone = "pharma-1";
  x.side = cc::Side::kHigh;
  x.limit_c = 8.0;
  x.start = {600'000'000'000, t_ms("2026-07-01T08:10:00Z"), false};
  x.end = cc::Instant{3'000'000'000'000, t_ms("2026-07-01T08:50:00Z"), false};
  x.peak_c = 10.0;
  x.peak_probe = "p1";
  x.degree_minutes = 57.5;
  x.out_of_range_ns = 2'100'000'000'000;
  x.alarmed = true;
  x.alarm_at = cc::Instant{2'400'000'000'000, t_ms("2026-07-01T08:40:00Z"), false};
  x.cause = cc::AlarmCause::kContinuous;
  auto rec = store::excursion_json(x, kReportExcursion, 3'000'000'000'000);
  st = (*db)->transaction(
      [&] { return store::insert_excursion(**db, rec, "closed", "2026-07-01T08:50:00.000Z"); });
  ASSERT_TRUE(st.ok()) << st.error().message;

  store::Ledger ledger(**db);
  auto m = movement("r1", "VAX", MovementKind::kReceive, 10);
  ASSERT_TRUE(ledger.post(std::span(&m, 1)).ok());
  auto placed = (*db)->transaction([&](const store::Txn& txn) {
    return store::place_holds(txn, ledger, "pharma-1", kReportExcursion, "hold-x",
                              {"2026-07-01T08:40:00.000Z", 1, "agent", "coldchain"});
  });
  ASSERT_TRUE(placed.ok()) << placed.error().message;
  (*db).reset();  // closed before the CLI writes
  // Through the real CLI (no agent running): the late acknowledgement and a partial release.
  auto r = run_agent({"alarms", "ack", "pharma-1", "--who", kReportAckWho, "--comment",
                      kReportAckComment, "--root-cause", kReportRootCause, "-c", cfg});
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_agent({"holds", "release", "1", "--who", "Bo", "--why", "core temperature fine", "--qty",
                 "4", "-c", cfg});
  ASSERT_EQ(r.code, 0) << r.err;
}

}  // namespace depot::test
