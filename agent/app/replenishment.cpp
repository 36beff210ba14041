#include "app/replenishment.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "core/time.hpp"
#include "store/ledger.hpp"

namespace depot::app {
namespace {

constexpr std::int64_t kFoldBatch = 4096;

// Changes when another connection (the CLI, another process) commits to the database.
std::int64_t data_version(store::Database& db) {
  auto q = db.prepare("PRAGMA data_version");
  if (!q) return -1;
  auto row = (*q)->step();
  std::int64_t v = row && *row ? (*q)->int64(0) : -1;
  (*q)->reset();
  return v;
}



}  // namespace

// What replenishment keeps per SKU: 120 bytes for a SKU that has never been picked, returned
// or ordered (10,000 such SKUs: 1.2 MB); its demand history and its open work each behind a
// pointer, allocated for the SKUs that have them.
struct Replenishment::SkuState {
  std::string sku;
  const PolicyEntry* policy_entry = nullptr;  // the catalog's policy name, and the config's policy
  StockLine stock;
  // The catalog's demand figures (replenish::DemandPrior); NaN: not given.
  double prior_daily = std::numeric_limits<double>::quiet_NaN();
  double prior_sd = std::numeric_limits<double>::quiet_NaN();
  std::uint32_t campaign_slot = 0;  // 0: no campaign; else 1 + index into campaign_slots_
  bool stock_known = false;  // a stock row exists: the SKU was received, counted or moved
  bool pin_demand = false;
  // Demand history, from the SKU's first demand day, pick or order line on.
  struct DayCounts {
    std::int64_t day, picked, returned;
  };
  struct Demand {
    bool fed = false;
    std::int64_t fed_through = 0;  // last day given to the tracker (valid when fed)
    replenish::DemandTracker tracker;
    std::vector<DayCounts> pending;  // days not given to the tracker yet, in day order
    std::unique_ptr<replenish::SurgeDetector> surge;        // picks, from the first pick on
    std::unique_ptr<replenish::SurgeDetector> order_surge;  // order intake, from the first order on
  };
  std::unique_ptr<Demand> demand;
  // What only some SKUs have at a time: open proposals and active alarms.
  struct Open {
    std::vector<replenish::Proposal> proposals;  // open ones, oldest first
    std::unique_ptr<store::ReplenishAlarm> surge_alarm, risk_alarm;
  };
  std::unique_ptr<Open> open;

  Demand& demand_work() {
    if (!demand) demand = std::make_unique<Demand>();
    return *demand;
  }
  Open& open_work() {
    if (!open) open = std::make_unique<Open>();
    return *open;
  }
  const std::string& policy_name() const { return policy_entry->first; }
  const replenish::Policy* policy() const { return policy_entry->second; }
  replenish::DemandPrior prior() const {
    replenish::DemandPrior p;
    if (!std::isnan(prior_daily)) p.daily_demand = prior_daily;
    if (!std::isnan(prior_sd)) p.daily_demand_sd = prior_sd;
    p.pin_demand = pin_demand;
    return p;
  }
  void set_prior(const replenish::DemandPrior& p) {
    prior_daily = p.daily_demand.value_or(std::numeric_limits<double>::quiet_NaN());
    prior_sd = p.daily_demand_sd.value_or(std::numeric_limits<double>::quiet_NaN());
    pin_demand = p.pin_demand;
  }
  replenish::DemandEstimate estimate(const replenish::DemandSettings& ds) const {
    static const replenish::DemandTracker kNoHistory;
    return (demand ? demand->tracker : kNoHistory).estimate(ds, prior());
  }
  bool surging() const {
    return demand && ((demand->surge && demand->surge->in_surge()) ||
                      (demand->order_surge && demand->order_surge->in_surge()));
  }
  double expected_per_hour(const replenish::DemandSettings& ds) const {
    return estimate(ds).daily / 24.0;
  }
  replenish::SurgeDetector& surge_of(bool orders, const replenish::SurgeSettings& settings) {
    auto& d = demand_work();
    auto& det = orders ? d.order_surge : d.surge;
    if (!det) det = std::make_unique<replenish::SurgeDetector>(settings);
    return *det;
  }
  DayCounts& pending_day(std::int64_t day) {
    auto& pending = demand_work().pending;
    auto it = std::lower_bound(pending.begin(), pending.end(), day,
                               [](const DayCounts& d, std::int64_t v) { return d.day < v; });
    if (it == pending.end() || it->day != day) it = pending.insert(it, {day, 0, 0});
    return *it;
  }
};

Replenishment::Replenishment(store::Database& db, replenish::Settings settings, Mode mode)
    : db_(db), settings_(std::move(settings)), mode_(mode) {
  // 10,000 quiet SKUs in 1.2 MB on 64-bit (issue 18's 12 MB): history and open work behind
  // their pointers.
  static_assert(sizeof(SkuState) <= 128, "SkuState grew: move what few SKUs have behind a pointer");
}

Replenishment::~Replenishment() = default;

template <class Fn>
Status Replenishment::in_transaction(Fn&& body) {
  if (mode_ == Mode::kReadOnly) return body();
  return db_.transaction([&]() -> Status { return body(); });
}

const Replenishment::SkuState* Replenishment::find(std::string_view sku) const {
  // Most callers walk SKUs in order (stock rows, demand days, `stock` output): try the SKU of
  // the last hit and the one after it before bisecting.
  for (auto i : {hint_, hint_ + 1})
    if (i < skus_.size() && skus_[i].sku == sku) return &skus_[hint_ = i];
  auto it = std::lower_bound(skus_.begin(), skus_.end(), sku,
                             [](const SkuState& s, std::string_view v) { return s.sku < v; });
  if (it == skus_.end() || it->sku != sku) return nullptr;
  hint_ = static_cast<std::size_t>(it - skus_.begin());
  return &*it;
}

Replenishment::SkuState* Replenishment::find(std::string_view sku) {
  return const_cast<SkuState*>(std::as_const(*this).find(sku));
}

bool Replenishment::in_surge(std::string_view sku) const {
  const auto* s = find(sku);
  return s && s->surging();
}

Status Replenishment::reconfigure(replenish::Settings settings, std::int64_t now_ms) {
  settings_ = std::move(settings);
  return load(now_ms);
}

// Demand days are the site's calendar days (site_timezone).
std::int64_t Replenishment::site_day(std::int64_t unix_ms) const {
  return tz::local_day(settings_.site_zone, unix_ms);
}

void Replenishment::stamp(std::int64_t now_ms) {
  wall_now_ = now_ms;
  mono_now_ = mono_clock_ ? mono_clock_() : now_ms;
}

std::int64_t Replenishment::mono_of(std::int64_t wall_ms) const {
  return std::max<std::int64_t>(0, mono_now_ - std::max<std::int64_t>(0, wall_now_ - wall_ms));
}

Status Replenishment::load(std::int64_t now_ms) {
  stamp(now_ms);
  skus_.clear();
  policies_.clear();
  {
    auto cat = store::load_replenish_items(db_);  // ordered by SKU
    if (!cat) return cat.error();
    if (!catalog_override_.empty()) {
      // Both in SKU order, then one merge walk (100,000 SKUs: no map of them).
      std::vector<const CatalogItem*> file;
      file.reserve(catalog_override_.size());
      for (const auto& c : catalog_override_) file.push_back(&c);
      std::sort(file.begin(), file.end(),
                [](const CatalogItem* a, const CatalogItem* b) { return a->sku < b->sku; });
      std::sort(cat->begin(), cat->end(), [](const store::ReplenishItem& a,
                                             const store::ReplenishItem& b) { return a.sku < b.sku; });
      auto f = file.begin();
      for (auto& item : *cat) {
        while (f != file.end() && (*f)->sku < item.sku) ++f;
        if (f == file.end()) break;
        if ((*f)->sku != item.sku) continue;
        item.policy = (*f)->policy;
        item.prior = **f;
      }
    }
    std::vector<SkuState> fresh(cat->size());
    skus_.swap(fresh);  // exactly as many as SKUs: no spare capacity
    for (std::size_t i = 0; i < cat->size(); ++i) {
      auto& item = (*cat)[i];
      auto& s = skus_[i];
      s.sku = std::move(item.sku);
      auto entry = policies_.find(item.policy);
      if (entry == policies_.end()) {
        const auto* policy = item.policy.empty() ? nullptr : settings_.find_policy(item.policy);
        entry = policies_.emplace(std::move(item.policy), policy).first;
      }
      s.policy_entry = &*entry;
      s.set_prior(item.prior);
    }
    // find() bisects: SQLite's ORDER BY (memcmp) and std::string agree, but do not rely on it.
    auto by_sku = [](const SkuState& a, const SkuState& b) { return a.sku < b.sku; };
    if (!std::is_sorted(skus_.begin(), skus_.end(), by_sku))
      std::sort(skus_.begin(), skus_.end(), by_sku);
  }
  if (auto st = load_campaigns(); !st) return st;
  if (auto st = load_source_stock(); !st) return st;
  if (auto st = load_stock_all(); !st) return st;
  if (auto st = load_proposals(now_ms); !st) return st;

  auto wm = store::replenish_watermark(db_);
  if (!wm) return wm.error();
  watermark_ = *wm;
  data_version_ = data_version(db_);

  // Demand buckets: days before today feed the tracker, from each SKU's first day on.
  auto days = store::load_demand_days(db_);
  if (!days) return days.error();
  SkuState* last = nullptr;  // rows come ordered by SKU: look each SKU up once
  std::string_view last_sku;
  for (const auto& d : *days) {
    if (!last || d.sku != last_sku) {
      last = find(d.sku);
      last_sku = d.sku;
    }
    if (last) last->demand_work().pending.push_back({d.day, d.picked, d.returned});  // day order
  }
  const auto today = site_day(now_ms);
  for (auto& s : skus_) advance_days(s, today);

  // Active alarms, so a restart neither repeats nor forgets them.
  auto alarms = store::load_alarms(db_, /*active_only=*/true);
  if (!alarms) return alarms.error();
  short_dated_.clear();
  for (auto& a : *alarms) {
    if (a.kind == "short_dated") {
      auto lot = a.details.find("lot");
      if (lot != a.details.end() && lot->is_string())
        short_dated_.emplace(std::pair{a.sku, lot->get<std::string>()}, std::move(a));
      continue;
    }
    auto* s = find(a.sku);
    if (!s) continue;
    if (a.kind == "demand_surge")
      s->open_work().surge_alarm = std::make_unique<store::ReplenishAlarm>(std::move(a));
    else
      s->open_work().risk_alarm = std::make_unique<store::ReplenishAlarm>(std::move(a));
  }

  // Surge windows: the picks of the last long window that were folded before.
  const auto since_ms = now_ms - settings_.surge.long_window_minutes * 60'000;
  // By the time index: left to itself SQLite walks every movement up to the watermark (1M
  // rows of backlog: ~0.1 s of start-up) for the few in the window.
  auto q = db_.prepare(
      "SELECT sku, -qty, wall_time FROM movements INDEXED BY movements_time"
      " WHERE kind = 'pick' AND wall_time >= ?1 AND seq <= ?2 ORDER BY seq");
  if (!q) return q.error();
  (*q)->bind(1, timefmt::rfc3339_from_unix_ms(since_ms)).bind(2, watermark_);
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    auto* s = find((*q)->text_view(0));
    auto units = (*q)->int64(1);
    auto wall = timefmt::parse_rfc3339_ms((*q)->text_view(2));
    if (!s || units <= 0 || !wall) continue;
    // The alarm state was loaded; replaying only rebuilds the windows and the peak.
    (void)s->surge_of(false, settings_.surge)
        .pick(mono_of(*wall), *wall, units, s->expected_per_hour(settings_.demand));
  }
  (*q)->reset();
  // Order intake windows: the order lines that arrived in the last long window.
  auto oq = db_.prepare(
      "SELECT sku, qty, created_at FROM order_lines WHERE created_at >= ?1 ORDER BY seq");
  if (!oq) return oq.error();
  (*oq)->bind(1, timefmt::rfc3339_from_unix_ms(since_ms));
  for (;;) {
    auto more = (*oq)->step();
    if (!more) return more.error();
    if (!*more) break;
    auto* s = find((*oq)->text_view(0));
    auto wall = timefmt::parse_rfc3339_ms((*oq)->text_view(2));
    if (!s || !wall) continue;
    (void)s->surge_of(true, settings_.surge)
        .pick(mono_of(*wall), *wall, (*oq)->int64(1), s->expected_per_hour(settings_.demand));
  }
  (*oq)->reset();
  // A read-only caller holding a read transaction (`stock`) sees the stock rows loaded above
  // and the movements folded below in one snapshot: the rows already include those movements.
  stock_in_snapshot_ = mode_ == Mode::kReadOnly && !sqlite3_get_autocommit(db_.handle());
  auto caught_up = catch_up(now_ms);
  stock_in_snapshot_ = false;
  if (!caught_up) return caught_up;
  if (auto st = check_lots(now_ms, /*act=*/false); !st) return st;
  // Read-only (CLI reports): `report` evaluates each SKU when asked; nothing to act on here.
  if (mode_ == Mode::kReadOnly) return {};
  return recompute_all(now_ms);
}

Status Replenishment::load_source_stock() {
  source_stock_.clear();
  auto q = db_.prepare("SELECT source, sku, qty FROM source_stock");
  if (!q) return q.error();
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    source_stock_[(*q)->text(1)].push_back({(*q)->text(0), (*q)->int64(2)});
  }
  (*q)->reset();
  return {};
}

Status Replenishment::load_campaigns() {
  campaigns_ = settings_.campaigns;
  auto cloud = store::load_campaigns(db_);
  if (!cloud) return cloud.error();
  for (auto& c : *cloud) {
    auto same = std::find_if(campaigns_.begin(), campaigns_.end(),
                             [&](const replenish::Campaign& x) { return x.name == c.name; });
    if (same != campaigns_.end())
      *same = std::move(c);
    else
      campaigns_.push_back(std::move(c));
  }
  campaign_index_ = replenish::CampaignIndex(campaigns_);
  for (const auto& s : skus_) campaign_index_.add_sku(s.sku, s.policy_name());
  campaign_slots_.clear();  // once all are added (for_sku's spans are stable from here on)
  for (auto& s : skus_) {
    auto span = campaign_index_.for_sku(s.sku);
    s.campaign_slot = 0;
    if (span.empty()) continue;
    campaign_slots_.push_back(span);
    s.campaign_slot = static_cast<std::uint32_t>(campaign_slots_.size());
  }
  return {};
}

Status Replenishment::load_stock_all() {
  auto q = db_.prepare("SELECT sku, on_hand, held, reserved, backordered FROM stock");
  if (!q) return q.error();
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    if (auto* s = find((*q)->text_view(0))) {
      s->stock = {(*q)->int64(1), (*q)->int64(2), (*q)->int64(3), (*q)->int64(4)};
      s->stock_known = true;
    }
  }
  (*q)->reset();
  return {};
}

Status Replenishment::refresh_stock(const std::set<std::string>& skus) {
  if (skus.size() > std::max<std::size_t>(64, skus_.size() / 8)) {  // many: one scan beats lookups
    for (const auto& sku : skus)
      if (auto* s = find(sku)) s->stock = {}, s->stock_known = false;
    if (auto st = load_stock_all(); !st) return st;
    return check_lots(wall_now_, /*act=*/false);  // what is expired, for all of them
  }
  auto q = db_.prepare("SELECT on_hand, held, reserved, backordered FROM stock WHERE sku = ?1");
  if (!q) return q.error();
  const auto today = store::site_date(settings_.site_zone, wall_now_);
  for (const auto& sku : skus) {
    auto* s = find(sku);
    if (!s) continue;
    // What is expired moves with the stock too (a receipt of an expired lot, its write-off).
    auto expired = store::expired_units(db_, sku, today);
    if (!expired) return expired.error();
    if (*expired)
      expired_[sku] = *expired;
    else
      expired_.erase(sku);
    auto row = (*q)->bind(1, sku).step();
    if (!row) return row.error();
    s->stock = *row ? StockLine{(*q)->int64(0), (*q)->int64(1), (*q)->int64(2), (*q)->int64(3)}
                    : StockLine{};
    s->stock_known = *row;
    (*q)->reset();
  }
  return {};
}

Status Replenishment::load_proposals(std::int64_t now_ms) {
  for (auto& s : skus_)
    if (s.open) s.open->proposals.clear();
  // Cancelled ones too while a cool-down may still hold (the longest of the profiles').
  double cooldown_h = 0;
  for (const auto& pol : settings_.policies)
    cooldown_h = std::max(cooldown_h, pol.cancel_cooldown_hours);
  auto open = store::load_proposals(
      db_, {.open_only = true,
            .or_cancelled_since_ms = now_ms - static_cast<std::int64_t>(cooldown_h * 3'600'000)});
  if (!open) return open.error();
  for (auto& p : *open)
    if (auto* s = find(p.sku)) s->open_work().proposals.push_back(std::move(p));
  return {};
}

Status Replenishment::refresh(std::int64_t now_ms) {
  if (auto st = load_proposals(now_ms); !st) return st;
  if (auto st = load_campaigns(); !st) return st;
  if (auto st = load_source_stock(); !st) return st;
  return recompute_all(now_ms);
}

Status Replenishment::orders_changed(std::int64_t now_ms, const orders::Change& change) {
  stamp(now_ms);
  if (auto st = catch_up(now_ms); !st) return st;  // movements first, in their order
  const std::set<std::string> skus(change.skus.begin(), change.skus.end());
  return in_transaction([&]() -> Status {
    // Order intake: each new line is one event of `qty` units for the SKU's order detector.
    for (const auto& in : change.intake) {
      auto* s = find(in.sku);
      if (!s || in.qty <= 0) continue;
      if (auto e = s->surge_of(true, settings_.surge)
                       .pick(mono_now_, now_ms, in.qty, s->expected_per_hour(settings_.demand)))
        if (auto st = surge_event(*s, *e, "orders"); !st) return st;
    }
    if (auto st = refresh_stock(skus); !st) return st;
    if (mode_ == Mode::kReadOnly) return {};
    for (const auto& sku : skus) {
      auto* s = find(sku);
      if (!s) continue;
      Status es;
      (void)decide(*s, now_ms, /*act=*/true, es);
      if (!es) return es;
    }
    return {};
  });
}

void Replenishment::advance_days(SkuState& s, std::int64_t today) {
  if (!s.demand) return;
  auto& d = *s.demand;
  if (d.pending.empty() && !d.fed) return;
  if (!d.fed) {
    if (d.pending.front().day >= today) return;
    d.fed_through = d.pending.front().day - 1;
    d.fed = true;
  }
  auto next = d.pending.begin();
  for (auto day = d.fed_through + 1; day < today; ++day) {
    while (next != d.pending.end() && next->day < day) ++next;
    double picked = 0, returned = 0;
    if (next != d.pending.end() && next->day == day) {
      picked = static_cast<double>(next->picked);
      returned = static_cast<double>(next->returned);
    }
    d.tracker.add_day(settings_.demand, picked, returned);
  }
  if (today - 1 > d.fed_through) d.fed_through = today - 1;
  // Days already given to the tracker are not needed again; a late movement of such a day
  // still lands in demand_days but not in this run's tracker.
  std::erase_if(d.pending, [&](const SkuState::DayCounts& c) { return c.day <= d.fed_through; });
}

Status Replenishment::surge_event(SkuState& s, const replenish::SurgeEvent& e,
                                  std::string_view signal) {
  nlohmann::json details{{"signal", signal},
                         {"window_minutes", e.window_minutes},
                         {"window_units", e.window_units},
                         {"rate_per_hour", e.rate_per_hour},
                         {"expected_per_hour", e.expected_per_hour},
                         {"at", timefmt::rfc3339_from_unix_ms(e.wall_ms)}};
  if (e.kind == replenish::SurgeEvent::Kind::kStarted) {
    if (s.open && s.open->surge_alarm) return {};
    store::ReplenishAlarm a{new_id(),       s.sku,
                            "demand_surge", timefmt::rfc3339_from_unix_ms(e.wall_ms),
                            std::nullopt,   details};
    log::warning("replenishment: demand_surge on " + a.sku + " from " + std::string(signal) +
                 ": " + std::to_string(e.window_units) + " units in " +
                 std::to_string(e.window_minutes) + " min (" +
                 std::to_string(static_cast<std::int64_t>(e.rate_per_hour)) + "/h against " +
                 std::to_string(e.expected_per_hour) + "/h expected)");
    if (mode_ == Mode::kWrite)
      if (auto st = store::raise_alarm(db_, a); !st) return st;
    ++counters_.alarms;
    s.open_work().surge_alarm = std::make_unique<store::ReplenishAlarm>(std::move(a));
  } else if (s.open && s.open->surge_alarm && !s.surging()) {
    // One alarm per SKU: it ends when neither picks nor order intake is in surge.
    log::info("replenishment: demand surge on " + s.sku + " ended");
    if (mode_ == Mode::kWrite)
      if (auto st = store::clear_alarm(db_, *s.open->surge_alarm,
                                       timefmt::rfc3339_from_unix_ms(e.wall_ms), details);
          !st)
        return st;
    s.open->surge_alarm.reset();
  }
  return {};
}

Status Replenishment::fold_receipt(SkuState& s, const store::FoldMovement& m) {
  std::vector<replenish::OpenOrder> orders;
  std::vector<replenish::Proposal*> acked;
  if (!s.open) return {};
  for (auto& p : s.open->proposals)
    if (p.state == replenish::ProposalState::kAcknowledged) {
      orders.push_back(p.order);
      acked.push_back(&p);
    }
  if (orders.empty()) return {};
  auto match = replenish::match_receipt(orders, m.qty);
  const auto wall = timefmt::parse_rfc3339_ms(m.wall_time).value_or(0);
  for (std::size_t i = 0; i < acked.size(); ++i) {
    if (match.applied[i] <= 0) continue;
    auto next = replenish::receive(*acked[i], match.applied[i], wall);
    if (!next) return Error{"receipt " + m.id + ": " + next.error().message};
    const bool full = next->state == replenish::ProposalState::kReceived;
    if (mode_ == Mode::kWrite) {
      if (auto st = store::record_order_receipt(db_, m.id, acked[i]->id, match.applied[i]); !st)
        return st;
      if (auto st = store::update_proposal(db_, *next, full ? "received" : "receipt",
                                           next->id + ":receipt:" + m.id, m.wall_time);
          !st)
        return st;
    }
    *acked[i] = std::move(*next);
    ++counters_.receipts;
  }
  std::erase_if(s.open->proposals, [](const replenish::Proposal& p) {
    return !p.open() && p.state != replenish::ProposalState::kCancelled;
  });
  return {};
}

// An UNDO of a receipt: what that receipt credited to orders is owed again (a label for 480
// scanned where 240 came, undone and scanned again, left the order 480 short of what it
// still owed: the position that much low, and a proposal for it; a receipt that completed
// an order by mistake closed it for good).
Status Replenishment::fold_unreceipt(SkuState& s, const store::FoldMovement& m) {
  auto credits = store::order_receipts_of(db_, m.reverses, mode_ == Mode::kWrite);
  if (!credits) return credits.error();
  for (const auto& [pid, qty] : *credits) {
    auto& list = s.open_work().proposals;
    auto it = std::find_if(list.begin(), list.end(),
                           [&](const replenish::Proposal& p) { return p.id == pid; });
    if (it == list.end()) {  // received in full: no longer among the open ones
      auto found = store::load_proposals(db_, {.id = pid});
      if (!found) return found.error();
      if (found->empty()) continue;
      if (found->front().state != replenish::ProposalState::kReceived) {
        log::info("replenishment: undo of receipt " + m.reverses + ": proposal " + pid + " is " +
                  std::string(replenish::to_string(found->front().state)) +
                  "; its credit of " + std::to_string(qty) + " is dropped");
        continue;
      }
      list.push_back(std::move(found->front()));
      it = std::prev(list.end());
    }
    // A proposal cancelled since (after part of it came) owes nothing any more: the credit
    // goes with it. Nothing one movement holds may stop the fold (its watermark would never
    // move past it: no proposal for any SKU, and a start that fails on it).
    if (it->state != replenish::ProposalState::kAcknowledged &&
        it->state != replenish::ProposalState::kReceived) {
      log::info("replenishment: undo of receipt " + m.reverses + ": proposal " + pid + " is " +
                std::string(replenish::to_string(it->state)) + "; its credit of " +
                std::to_string(qty) + " is dropped");
      continue;
    }
    auto next = replenish::unreceive(*it, qty);
    if (!next) {
      log::warning("replenishment: undo of receipt " + m.reverses + ": " + next.error().message);
      continue;
    }
    if (mode_ == Mode::kWrite)
      if (auto st = store::update_proposal(db_, *next, "receipt_undone",
                                           next->id + ":receipt_undone:" + m.id, m.wall_time);
          !st)
        return st;
    *it = std::move(*next);
  }
  return {};
}

Status Replenishment::fold(const std::vector<store::FoldMovement>& moves,
                           std::set<std::string>& touched) {
  for (const auto& m : moves) {
    ++counters_.folded;
    auto* s = find(m.sku);
    if (!s) continue;  // an inactive SKU: nothing to replenish
    touched.insert(m.sku);
    const auto wall = timefmt::parse_rfc3339_ms(m.wall_time);
    if (!wall) continue;
    const auto day = site_day(*wall);
    std::int64_t picked = 0, returned = 0;
    if (m.kind == "pick" && m.qty < 0) picked = -m.qty;
    if (m.kind == "return" && m.qty > 0) returned = m.qty;
    // An UNDO of a pick or a return takes its units back out of that day's demand: a case
    // code scanned for a unit and undone counted 13 picked where 1 was (its surge event
    // stays: the window forgets it within the hour).
    if (m.kind == "adjust" && !m.reverses.empty() &&
        (m.reverses_kind == "pick" || m.reverses_kind == "return")) {
      const auto then = timefmt::parse_rfc3339_ms(m.reverses_wall_time);
      const std::int64_t units = m.qty < 0 ? -m.qty : m.qty;
      if (then && units > 0) {
        const auto orig_day = site_day(*then);
        const std::int64_t un_picked = m.reverses_kind == "pick" ? units : 0;
        const std::int64_t un_returned = m.reverses_kind == "return" ? units : 0;
        if (mode_ == Mode::kWrite)
          if (auto st = store::remove_demand(db_, m.sku, orig_day, un_picked, un_returned); !st)
            return st;
        if (!s->demand || !s->demand->fed || orig_day > s->demand->fed_through) {
          auto& b = s->pending_day(orig_day);
          b.picked = std::max<std::int64_t>(b.picked - un_picked, 0);
          b.returned = std::max<std::int64_t>(b.returned - un_returned, 0);
        }
      }
    }
    if (picked || returned) {
      if (mode_ == Mode::kWrite)
        if (auto st = store::add_demand(db_, m.sku, day, picked, returned); !st) return st;
      if (!s->demand || !s->demand->fed || day > s->demand->fed_through) {
        auto& b = s->pending_day(day);
        b.picked += picked;
        b.returned += returned;
      }
    }
    if (picked) {
      if (auto e = s->surge_of(false, settings_.surge)
                       .pick(mono_of(*wall), *wall, picked, s->expected_per_hour(settings_.demand)))
        if (auto st = surge_event(*s, *e, "picks"); !st) return st;
    }
    if (m.kind == "receive" && m.qty > 0)
      if (auto st = fold_receipt(*s, m); !st) return st;
    if (m.kind == "adjust" && m.reverses_kind == "receive" && m.qty < 0)
      if (auto st = fold_unreceipt(*s, m); !st) return st;
  }
  return {};
}

Status Replenishment::catch_up(std::int64_t now_ms) { return catch_up(now_ms, true); }

Status Replenishment::catch_up(const store::Txn&, std::int64_t now_ms) {
  return catch_up(now_ms, false);
}

Status Replenishment::catch_up(std::int64_t now_ms, bool own_transaction) {
  stamp(now_ms);
  // Another process may have acknowledged or cancelled a proposal, or set a campaign: read
  // them again before folding, so a receipt right after an acknowledgement finds its order.
  if (auto v = data_version(db_); v != data_version_) {
    data_version_ = v;
    if (auto st = load_proposals(now_ms); !st) return st;
    if (auto st = load_campaigns(); !st) return st;
    if (auto st = load_source_stock(); !st) return st;
    external_change_ = true;
  }
  for (;;) {
    auto moves = store::movements_after(db_, watermark_, kFoldBatch);
    if (!moves) return moves.error();
    if (moves->empty()) return {};
    const auto last = moves->back().seq;
    std::set<std::string> touched;
    auto body = [&]() -> Status {
      if (auto s = fold(*moves, touched); !s) return s;
      if (!stock_in_snapshot_)
        if (auto s = refresh_stock(touched); !s) return s;
      // A receipt of a short-dated lot alarms at once, not at the next minute's recompute
      // (one indexed read of the lots near their expiry).
      if (auto s = check_lots(now_ms, /*act=*/true); !s) return s;
      if (mode_ == Mode::kReadOnly) return {};  // evaluated when reported
      for (const auto& sku : touched) {
        auto* s = find(sku);
        if (!s) continue;
        Status es;
        (void)decide(*s, now_ms, /*act=*/true, es);
        if (!es) return es;
      }
      if (mode_ == Mode::kWrite) return store::set_replenish_watermark(db_, last);
      return {};
    };
    auto st = own_transaction ? in_transaction(body) : body();
    if (!st) {
      // Memory may be ahead of the database now: start again from what was committed.
      return Error{"folding movements after seq " + std::to_string(watermark_) + ": " +
                   st.error().message};
    }
    watermark_ = last;
    if (static_cast<std::int64_t>(moves->size()) < kFoldBatch) return {};
  }
}

bool Replenishment::take_external_change() {
  bool changed = external_change_;
  external_change_ = false;
  return changed;
}

Status Replenishment::check_lots(std::int64_t now_ms, bool act) {
  const auto today = store::site_date(settings_.site_zone, now_ms);
  const auto days = settings_.lots.short_dated_days;
  // The last day that counts as short-dated: today + days (ISO dates compare as text).
  const auto horizon = lots::add_days(today, days);
  expired_.clear();
  std::map<std::pair<std::string, std::string>, nlohmann::json> due;
  auto q = db_.prepare(
      "SELECT sku, lot, expiry, on_hand - held FROM lot_stock WHERE expiry IS NOT NULL"
      " AND expiry <> '' AND expiry <= ?1 AND on_hand > held");
  if (!q) return q.error();
  (*q)->bind(1, days > 0 ? horizon : today);
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    auto sku = (*q)->text(0), lot = (*q)->text(1), expiry = (*q)->text(2);
    const auto qty = (*q)->int64(3);
    const auto left = lots::days_left(expiry, today);
    if (expiry < today) expired_[sku] += qty;
    if (days > 0 && left)
      due[{sku, lot}] = {{"lot", lot},          {"expiry", expiry}, {"days_left", *left},
                         {"qty", qty},          {"expired", expiry < today},
                         {"short_dated_days", days}};
  }
  (*q)->reset();
  if (!act || mode_ != Mode::kWrite) return {};
  const auto now = timefmt::rfc3339_from_unix_ms(now_ms);
  for (auto it = short_dated_.begin(); it != short_dated_.end();) {
    if (due.count(it->first)) {
      ++it;
      continue;
    }
    if (auto st = store::clear_alarm(db_, it->second, now, {{"lot", it->first.second}, {"qty", 0}});
        !st)
      return st;
    log::info("replenishment: short_dated cleared on " + it->first.first + " lot " +
              it->first.second + " (no stock left outside holds)");
    it = short_dated_.erase(it);
  }
  for (auto& [key, details] : due) {
    if (short_dated_.count(key)) continue;
    store::ReplenishAlarm a{new_id(), key.first, "short_dated", now, std::nullopt, details};
    log::warning("replenishment: short_dated on " + key.first + ": " + details.dump());
    if (auto st = store::raise_alarm(db_, a); !st) return st;
    ++counters_.alarms;
    short_dated_.emplace(key, std::move(a));
  }
  return {};
}

Status Replenishment::recompute_all(std::int64_t now_ms) {
  stamp(now_ms);
  const auto today = site_day(now_ms);
  return in_transaction([&]() -> Status {
    if (auto st = check_lots(now_ms, /*act=*/true); !st) return st;
    for (auto& s : skus_) {
      advance_days(s, today);
      Status es;
      (void)decide(s, now_ms, /*act=*/true, es);
      if (!es) return es;
    }
    return {};
  });
}

replenish::Decision Replenishment::decide(SkuState& s, std::int64_t now_ms, bool act, Status& st) {
  ++counters_.evaluations;
  advance_days(s, site_day(now_ms));
  replenish::SkuInputs in;
  in.stock = s.stock;
  if (auto e = expired_.find(s.sku); e != expired_.end()) in.stock.expired = e->second;
  in.demand = s.estimate(settings_.demand);
  const double expected_h = in.demand.daily / 24.0;
  // Picks and order intake each have a detector; the stronger surge in force is projected.
  for (auto [det, signal] :
       {std::pair{s.demand ? s.demand->surge.get() : nullptr, "picks"},
        std::pair{s.demand ? s.demand->order_surge.get() : nullptr, "orders"}}) {
    if (!det) continue;
    if (act)
      if (auto e = det->tick(mono_now_, now_ms, expected_h))
        if (st = surge_event(s, *e, signal); !st) return {};
    if (!det->in_surge()) continue;
    auto p = det->projection(mono_now_, expected_h);
    if (in.surge_signal.empty() || p.excess_per_day > in.surge.excess_per_day)
      in.surge = p, in.surge_signal = signal;
  }
  if (s.campaign_slot) in.campaigns = campaign_slots_[s.campaign_slot - 1];
  if (auto it = source_stock_.find(s.sku); it != source_stock_.end()) in.source_stock = it->second;
  if (s.open) in.proposals = s.open->proposals;
  auto d = replenish::evaluate(in, s.policy(), now_ms);
  if (act) st = act_on(s, d, now_ms);
  // A proposal nobody has acknowledged yet follows the situation: withdrawn when its need went
  // away (withdrawal_due), else revised (revision_due).
  if (act && st && mode_ == Mode::kWrite && d.reason == replenish::Reason::kOpenProposal &&
      s.stock_known && s.open)
    for (auto it = s.open->proposals.begin(); it != s.open->proposals.end(); ++it)
      if (auto& p = *it; p.state == replenish::ProposalState::kProposed) {
        if (auto fresh = replenish::withdrawal_due(in, *s.policy(), p, now_ms)) {
          auto gone = replenish::withdraw(p, *fresh, now_ms);
          auto done = store::withdraw_proposal(db_, gone, timefmt::rfc3339_from_unix_ms(now_ms));
          if (!done) {
            st = done.error();
            return d;
          }
          if (!*done) {  // a person decided it meanwhile (the CLI): take what they decided
            auto stored = store::load_proposals(db_, {.id = p.id});
            if (!stored) st = stored.error();
            else if (stored->size() == 1) p = std::move(stored->front());
            return d;
          }
          log::info("replenishment: withdrew " + p.id + " (" + std::to_string(p.quantity) +
                    " x " + p.sku + "): " + gone.cancel_reason);
          // It decides nothing more (a withdrawal holds no cool-down): not kept in memory.
          s.open->proposals.erase(it);
          d = std::move(*fresh);  // what the SKU's decision is now
          break;
        }
        if (auto fresh = replenish::revision_due(in, *s.policy(), p, now_ms)) {
          auto revised = replenish::revise(p, *fresh);
          if (s.surging()) revised.urgent = true;
          const auto now = timefmt::rfc3339_from_unix_ms(now_ms);
          if (st = store::revise_proposal(db_, revised, p, p.id + ":revised:" + now, now); !st)
            return d;
          log::info("replenishment: revised " + p.id + " for " + p.sku + " from " +
                    std::to_string(p.quantity) + " to " + std::to_string(revised.quantity) +
                    " (" + std::string(replenish::to_string(revised.reason)) + ", position " +
                    std::to_string(revised.numbers.position) + ")");
          p = std::move(revised);
          break;
        }
      }
  return d;
}

Status Replenishment::act_on(SkuState& s, const replenish::Decision& d, std::int64_t now_ms) {
  // A SKU the ledger has never seen (no receipt, count or other movement) has no known stock:
  // ordering for it, or warning that it runs out, would only repeat that it was never counted.
  if (!s.stock_known) return {};
  const auto now = timefmt::rfc3339_from_unix_ms(now_ms);
  const auto& n = d.numbers;
  // stockout_risk: raised once while it lasts, cleared when it no longer holds.
  const bool at_risk = s.open && s.open->risk_alarm;
  if (n.stockout_risk && !at_risk) {
    nlohmann::json details{
        {"available", n.available},
        {"daily_demand", n.daily_demand},
        {"days_of_cover", std::isfinite(n.days_of_cover) ? nlohmann::json(n.days_of_cover)
                                                         : nlohmann::json(nullptr)},
        {"projected_stockout",
         n.projected_stockout_ms
             ? nlohmann::json(timefmt::rfc3339_from_unix_ms(*n.projected_stockout_ms))
             : nlohmann::json(nullptr)},
        {"earliest_arrival", timefmt::rfc3339_from_unix_ms(n.earliest_arrival_ms)},
        {"surge", s.surging()}};
    store::ReplenishAlarm a{new_id(), s.sku, "stockout_risk", now, std::nullopt, details};
    log::warning("replenishment: stockout_risk on " + a.sku + ": " + details.dump());
    if (mode_ == Mode::kWrite)
      if (auto st = store::raise_alarm(db_, a); !st) return st;
    ++counters_.alarms;
    s.open_work().risk_alarm = std::make_unique<store::ReplenishAlarm>(std::move(a));
  } else if (!n.stockout_risk && at_risk) {
    if (mode_ == Mode::kWrite)
      if (auto st = store::clear_alarm(db_, *s.open->risk_alarm, now,
                                       {{"available", n.available},
                                        {"position", n.position},
                                        {"daily_demand", n.daily_demand}});
          !st)
        return st;
    s.open->risk_alarm.reset();
  }
  if (!d.proposes() || mode_ == Mode::kReadOnly) return {};
  auto p = replenish::make_proposal(d, new_id(), s.sku, now_ms);
  if (s.surging()) p.urgent = true;  // surge-driven orders are urgent
  if (auto st = store::insert_proposal(db_, p, now); !st) return st;
  log::info(
      "replenishment: proposed " + std::to_string(p.quantity) + " x " + p.sku + " from " +
      p.supplier + (p.urgent ? " (URGENT)" : "") + ": " +
      std::string(replenish::to_string(d.reason)) + " (position " + std::to_string(n.position) +
      ", reorder point " + std::to_string(static_cast<std::int64_t>(std::ceil(n.reorder_point))) +
      ", order-up-to " + std::to_string(static_cast<std::int64_t>(std::ceil(n.order_up_to))) + ")");
  ++counters_.proposals;
  s.open_work().proposals.push_back(std::move(p));
  return {};
}

std::optional<SkuReplenishment> Replenishment::report(std::string_view sku, std::int64_t now_ms) {
  stamp(now_ms);
  auto* s = find(sku);
  if (!s) return std::nullopt;
  Status ignored;
  SkuReplenishment r;
  r.sku = s->sku;
  r.policy = s->policy_name();
  r.has_policy = s->policy() != nullptr;
  r.stock_known = s->stock_known;
  r.decision = decide(*s, now_ms, /*act=*/false, ignored);
  r.surge = s->surging();
  return r;
}

}  // namespace depot::app

namespace depot::app {
namespace {
std::int64_t wall_ms_now() { return timefmt::parse_rfc3339_ms(wall_now()).value_or(0); }
}  // namespace

ReplenishmentLoop::ReplenishmentLoop(boost::asio::io_context& io, store::Database& db,
                                     Replenishment& r, std::chrono::milliseconds recheck,
                                     std::chrono::milliseconds recompute)
    : db_(db),
      r_(r),
      recheck_(recheck),
      recompute_(recompute),
      recheck_timer_(io),
      recompute_timer_(io) {}

void ReplenishmentLoop::run(const char* what, const std::function<Status(std::int64_t)>& step) {
  if (stale_) {  // in_commit's work was undone: start again from what was committed
    if (auto st = r_.load(wall_ms_now()); !st) {
      log::error("replenishment: reload failed: " + st.error().message);
      return;
    }
    stale_ = false;
  }
  if (auto st = step(wall_ms_now()); !st) {
    log::error(std::string("replenishment: ") + what + ": " + st.error().message +
               "; reloading from the database");
    if (auto again = r_.load(wall_ms_now()); !again)
      log::error("replenishment: reload failed: " + again.error().message);
  }
}

void ReplenishmentLoop::start() {
  stopped_ = false;
  arm_recheck();
  arm_recompute();
}

void ReplenishmentLoop::stop() {
  stopped_ = true;
  recheck_timer_.cancel();
  recompute_timer_.cancel();
}

void ReplenishmentLoop::after_commit(std::span<const store::PostResult> results) {
  bool posted = false;
  for (const auto& r : results) posted |= r.outcome == store::PostOutcome::kPosted;
  if (posted || stale_) run("after commit", [&](std::int64_t now) { return r_.catch_up(now); });
}

Status ReplenishmentLoop::in_commit(const store::Txn& txn) {
  if (stale_) return {};  // reloaded after the next commit, which folds this batch too
  return r_.catch_up(txn, wall_ms_now());
}

void ReplenishmentLoop::in_commit_undone(const std::string& why) {
  // Memory may be ahead of the database: the next step of the loop (after the next commit,
  // or its timers) reloads first; not now, while the store may be failing and retrying.
  if (!stale_)
    log::error("replenishment: folding a batch in its own transaction was undone (" + why +
               "); the movements are not affected; reloading before the next step");
  stale_ = true;
}

void ReplenishmentLoop::proposals_changed() {
  run("refresh", [&](std::int64_t now) { return r_.refresh(now); });
}

void ReplenishmentLoop::orders_changed(const orders::Change& change) {
  run("orders", [&](std::int64_t now) { return r_.orders_changed(now, change); });
}

void ReplenishmentLoop::reload() {
  run("reload", [&](std::int64_t now) { return r_.load(now); });
}

void ReplenishmentLoop::arm_recheck() {
  recheck_timer_.expires_after(recheck_);
  recheck_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    run("re-check", [&](std::int64_t now) -> Status {
      if (auto st = r_.catch_up(now); !st) return st;
      // Proposals or campaigns changed elsewhere: every SKU's decision may have changed.
      if (r_.take_external_change()) return r_.recompute_all(now);
      return {};
    });
    arm_recheck();
  });
}

void ReplenishmentLoop::arm_recompute() {
  recompute_timer_.expires_after(recompute_);
  recompute_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    run("recompute", [&](std::int64_t now) { return r_.recompute_all(now); });
    arm_recompute();
  });
}

}  // namespace depot::app
