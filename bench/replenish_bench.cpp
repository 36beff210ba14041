// Replenishment speed: a full recompute of every SKU (target: 100,000 SKUs in under 200 ms on
// x86-64) and the re-evaluation of the SKU one movement touched (microseconds), each beside a
// bare limit measured in the same run:
//  * full recompute  vs  the same pass over the same SKUs doing only the arithmetic of a
//    reorder point (d*L + z*sqrt(L*sd^2 + d^2*sdL^2), compared with the position), and vs
//    reading the same stock rows from SQLite;
//  * one SKU after a committed pick (Replenishment::catch_up: read the new movement back,
//    fold it, evaluate, commit the watermark)  vs  one bare `evaluate` of that SKU in memory.
//
//   bench_replenish [--skus N] [--picks N] [--dir DIR]
#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>

#include "app/replenishment.hpp"
#include "base/resident.hpp"
#include "core/time.hpp"
#include "store/ledger.hpp"

using namespace depot;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

void must(const Status& st) {
  if (!st) {
    std::cerr << st.error().message << "\n";
    std::exit(1);
  }
}

replenish::Settings settings() {
  replenish::Settings s;
  replenish::Policy fast;
  fast.name = "fast";
  fast.lead_time_days = 3;
  fast.lead_time_sd_days = 1;
  fast.review_period_days = 1;
  fast.safety = replenish::SafetyRule::kServiceLevel;
  fast.service_level = 0.98;
  fast.moq = 12;
  fast.case_multiple = 12;
  fast.suppliers = {{"a", 5.0, 1.8}, {"b", 2.0, 2.6}};
  replenish::Policy steady = fast;
  steady.name = "steady";
  steady.lead_time_days = 21;
  steady.safety = replenish::SafetyRule::kDaysOfCover;
  steady.safety_days = 7;
  s.policies = {fast, steady};
  s.campaigns = {{.name = "live",
                  .policy = "fast",
                  .factor = 4,
                  .start_ms = *timefmt::parse_rfc3339_ms("2026-11-25T12:00:00Z"),
                  .end_ms = *timefmt::parse_rfc3339_ms("2026-11-25T18:00:00Z")}};
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  depot::tune_allocator();  // the daemon's allocator settings: the agent's code runs in here
  depot::store::configure_sqlite();  // and SQLite's (store/database.hpp), before any open
  int skus = 100000, picks = 2000;
  std::string dir = std::filesystem::temp_directory_path() / "depot-bench-replenish";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--skus")
      skus = std::stoi(argv[i + 1]);
    else if (k == "--picks")
      picks = std::stoi(argv[i + 1]);
    else if (k == "--dir")
      dir = argv[i + 1];
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto path = dir + "/replenish.db";
  const auto now = *timefmt::parse_rfc3339_ms("2026-11-23T10:00:00Z");

  // The database: every SKU with a policy and a catalog demand, 5,000 units on hand, and 20
  // days of demand buckets for one SKU in ten (the others run on their catalog figure).
  {
    auto db = store::Database::open(path, {.synchronous = Synchronous::kNormal});
    if (!db) return 1;
    std::vector<CatalogItem> items;
    items.reserve(static_cast<std::size_t>(skus));
    for (int i = 0; i < skus; ++i)
      items.push_back(CatalogItem{.sku = "SKU-" + std::to_string(i),
                                  .policy = i % 2 ? "fast" : "steady",
                                  .daily_demand = 5.0 + i % 50});
    if (auto r = store::apply_catalog(**db, items, "2026-11-23T00:00:00.000Z"); !r) must(r.error());
    must((*db)->transaction([&]() -> Status {
      auto q = (*db)->prepare(
          "INSERT INTO stock(sku, on_hand, held, updated_at) VALUES(?1, 5000, 0, 't')");
      if (!q) return q.error();
      for (int i = 0; i < skus; ++i)
        if (auto st = (*q)->bind(1, "SKU-" + std::to_string(i)).run(); !st) return st;
      const auto today = now / 86'400'000;
      for (int i = 0; i < skus; i += 10)
        for (int d = 1; d <= 20; ++d)
          if (auto st =
                  store::add_demand(**db, "SKU-" + std::to_string(i), today - d, 5 + d % 7, 0);
              !st)
            return st;
      return {};
    }));
  }

  auto db = store::Database::open(path, {.synchronous = Synchronous::kNormal});
  if (!db) return 1;
  app::Replenishment r(**db, settings(), app::Replenishment::Mode::kWrite);
  auto t = Clock::now();
  must(r.load(now));
  const double load_ms = ms_since(t);

  // What `depot-agent stock` adds: a read-only load and a report of every SKU.
  t = Clock::now();
  {
    app::Replenishment ro(**db, settings(), app::Replenishment::Mode::kReadOnly);
    must(ro.load(now));
    for (int i = 0; i < skus; ++i)
      if (!ro.report("SKU-" + std::to_string(i), now)) return 1;
  }
  const double cli_ms = ms_since(t);

  // Full recompute, best of 5.
  double full_ms = 1e9;
  for (int i = 0; i < 5; ++i) {
    t = Clock::now();
    must(r.recompute_all(now + i * 60'000));
    full_ms = std::min(full_ms, ms_since(t));
  }

  // Bare limit 1: the same pass doing only reorder-point arithmetic over the same SKUs.
  struct Bare {
    double d, sd, lead, sd_lead;
    std::int64_t position;
  };
  std::vector<Bare> bare;
  for (int i = 0; i < skus; ++i) {
    const auto rep = r.report("SKU-" + std::to_string(i), now);
    const auto& n = rep->decision.numbers;
    bare.push_back(
        {n.daily_demand, n.daily_demand_sd, n.lead_time_days, n.lead_time_sd_days, n.position});
  }
  const double z = replenish::inverse_normal_cdf(0.98);
  double bare_ms = 1e9;
  std::int64_t due = 0;
  for (int i = 0; i < 5; ++i) {
    t = Clock::now();
    due = 0;
    for (const auto& b : bare) {
      const double rop =
          b.d * b.lead + z * std::sqrt(b.lead * b.sd * b.sd + b.d * b.d * b.sd_lead * b.sd_lead);
      due += static_cast<double>(b.position) <= rop;
    }
    bare_ms = std::min(bare_ms, ms_since(t));
  }
  // Bare limit 2: reading the same stock rows from SQLite.
  double read_ms = 1e9;
  for (int i = 0; i < 5; ++i) {
    t = Clock::now();
    auto q = (*db)->prepare("SELECT sku, on_hand, held FROM stock");
    std::int64_t rows = 0;
    while (*(*q)->step()) ++rows;
    (*q)->reset();
    read_ms = std::min(read_ms, ms_since(t));
    if (rows != skus) return 1;
  }

  // One SKU after a committed pick: catch_up only (the post itself is the ledger's figure).
  store::Ledger ledger(**db);
  std::mt19937 rng(7);
  double catch_up_ms = 0;
  for (int i = 0; i < picks; ++i) {
    MovementRequest m;
    m.id = "pick-" + std::to_string(i);
    m.sku = "SKU-" + std::to_string(rng() % static_cast<unsigned>(skus));
    m.kind = MovementKind::kPick;
    m.quantity = 1;
    m.source = "bench";
    m.wall_time = timefmt::rfc3339_from_unix_ms(now + i * 1000);
    m.mono_ns = i;
    if (auto p = ledger.post(std::span(&m, 1)); !p) return 1;
    t = Clock::now();
    must(r.catch_up(now + i * 1000));
    catch_up_ms += ms_since(t);
  }
  // Bare: one evaluate of one SKU in memory (report(), which is evaluate plus a map lookup).
  t = Clock::now();
  for (int i = 0; i < picks; ++i) (void)r.report("SKU-" + std::to_string(i % skus), now);
  const double evaluate_ms = ms_since(t);

  std::printf(
      "replenishment, %d SKUs (half fast/service level, half steady/days of cover, "
      "one campaign)\n",
      skus);
  std::printf("  load (catalog, stock, buckets, proposals, then a full recompute): %.1f ms\n",
              load_ms);
  std::printf("  stock figures for the CLI (read-only load + every SKU reported): %.1f ms\n",
              cli_ms);
  std::printf("  full recompute:            %8.1f ms  (target < 200 ms)\n", full_ms);
  std::printf("    bare: reorder-point arithmetic over the same SKUs: %.2f ms (%lld due)\n",
              bare_ms, static_cast<long long>(due));
  std::printf("    bare: reading the same %d stock rows from SQLite:  %.1f ms\n", skus, read_ms);
  std::printf("  one SKU after a committed pick (catch_up): %6.1f us\n",
              1000.0 * catch_up_ms / picks);
  std::printf("    bare: evaluate of one SKU in memory:     %6.2f us\n",
              1000.0 * evaluate_ms / picks);
  std::printf("  counters: %llu evaluations, %llu proposals\n",
              static_cast<unsigned long long>(r.counters().evaluations),
              static_cast<unsigned long long>(r.counters().proposals));
  std::filesystem::remove_all(dir);
  return 0;
}
