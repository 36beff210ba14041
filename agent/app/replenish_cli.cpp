#include "app/replenish_cli.hpp"

#include <algorithm>

#include <charconv>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/actions.hpp"
#include "app/cli_kit.hpp"
#include "base/clock.hpp"
#include "app/store_access.hpp"
#include "app/views.hpp"
#include "app/users_cli.hpp"
#include "store/audit.hpp"
#include "core/replenish/backtest.hpp"
#include "core/time.hpp"
#include "store/replenish_store.hpp"

namespace depot::app {
namespace {


std::int64_t now_ms() { return timefmt::parse_rfc3339_ms(wall_now()).value_or(0); }

std::optional<std::int64_t> to_int(const std::string& s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string fixed(double v, int digits = 1) {
  if (!std::isfinite(v)) return "inf";
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << v;
  return o.str();
}

// The reason in numbers, one line: what a buyer checks.
std::string numbers_line(const replenish::Numbers& n) {
  std::string orders;
  if (n.reserved) orders += " after " + std::to_string(n.reserved) + " reserved";
  if (n.backordered) orders += " - backordered " + std::to_string(n.backordered);
  return "position " + std::to_string(n.position) + " (available " + std::to_string(n.available) +
         orders + " + on order " + std::to_string(n.on_order) + ") vs reorder point " +
         fixed(n.reorder_point) + " = lead-time demand " + fixed(n.lead_time_demand) +
         " + safety stock " + fixed(n.safety_stock) + "; order-up-to " + fixed(n.order_up_to) +
         "; demand " + fixed(n.daily_demand, 2) + "/day sd " + fixed(n.daily_demand_sd, 2) + " (" +
         std::string(replenish::to_string(n.demand_source)) + "); lead time " +
         fixed(n.lead_time_days) + " d sd " + fixed(n.lead_time_sd_days) + "; surge x" +
         fixed(n.surge_factor, 2) + ", campaign x" + fixed(n.campaign_factor, 2) +
         (n.surge_signal.empty() ? std::string() : " (surge from " + n.surge_signal + ")") +
         "; days of cover " + fixed(n.days_of_cover) + "; triggered by " +
         std::string(replenish::to_string(n.trigger)) +
         (n.cover_cap ? "; pipeline capped at " + std::to_string(*n.cover_cap) + " (" +
                            fixed(n.max_cover_days) + " days of baseline demand)"
                      : std::string()) +
         (n.source_why.empty() ? std::string() : "; source: " + n.source_why) +
         (n.reorder_point_above_max_stock
              ? "; WARNING: the reorder point is above the profile's max_stock (no order can "
                "bring the position back over it)"
              : std::string());
}

int list_reorders(const Args& a, const LoadedConfig& cfg, std::ostream& out, std::ostream& err) {
  auto db = open_for_reading(cfg);
  if (!db) {
    err << "depot-agent reorders: " << db.error().message << "\n";
    return kFailure;
  }
  if (a.has("--json")) {
    auto st = views::write_reorders(out, **db, {.open = a.has("--open")});
    if (!st) err << "depot-agent reorders: " << st.error().message << "\n";
    return st ? kOk : kFailure;
  }
  auto props = store::load_proposals(**db, {.open_only = a.has("--open")});
  if (!props) {
    err << "depot-agent reorders: " << props.error().message << "\n";
    return kFailure;
  }
  if (props->empty()) {
    out << (a.has("--open") ? "no open proposals\n" : "no proposals\n");
    return kOk;
  }
  for (const auto& p : *props) {
    out << p.id << "  " << p.sku << "  " << replenish::to_string(p.state) << "  " << p.quantity
        << " from " << p.supplier << (p.urgent ? "  URGENT" : "") << "\n"
        << "  created " << timefmt::rfc3339_from_unix_ms(p.created_ms) << ", expected "
        << timefmt::rfc3339_from_unix_ms(p.expected_arrival_ms);
    if (!p.order.order_number.empty())
      out << ", order " << p.order.order_number << " (" << p.order.received << " of "
          << p.order.quantity << " received)";
    if (p.state == replenish::ProposalState::kCancelled) out << ", cancelled: " << p.cancel_reason;
    out << "\n  why: " << replenish::to_string(p.reason) << ": " << numbers_line(p.numbers) << "\n";
  }
  return kOk;
}

int change_reorder(const Args& a, const LoadedConfig& cfg, std::ostream& out, std::ostream& err) {
  const auto& verb = a.positional()[0];
  const std::string cmd = "depot-agent reorders " + verb;
  if (a.positional().size() < 2) {
    err << cmd << ": the proposal id is required (see 'depot-agent reorders')\n";
    return kBadInput;
  }
  const auto& id = a.positional()[1];
  const bool ack = verb == "ack";
  for (const char* opt : {"--open", "--json"})
    if (a.has(opt)) {
      err << cmd << ": " << opt << " is for listing, not for " << verb << "\n";
      return kBadInput;
    }
  for (const char* opt : ack ? std::vector<const char*>{"--why"}
                             : std::vector<const char*>{"--order", "--qty", "--eta"})
    if (a.has(opt)) {
      err << cmd << ": " << opt << " does not apply to " << verb << "\n";
      return kBadInput;
    }
  std::optional<std::int64_t> qty, eta;
  std::string order, why;
  if (ack) {
    auto o = a.get("--order");
    if (!o || o->empty()) {
      err << cmd << ": --order NUMBER (the supplier's order number) is required\n";
      return kBadInput;
    }
    order = *o;
    if (auto q = a.get("--qty")) {
      qty = to_int(*q);
      if (!qty || *qty <= 0) {
        err << cmd << ": --qty: \"" << *q << "\" must be a whole number above 0\n";
        return kBadInput;
      }
    }
    if (auto e = a.get("--eta")) {
      eta = timefmt::parse_rfc3339_ms(*e);
      if (!eta) {
        err << cmd << ": --eta: \"" << *e << "\" must be a date (2026-12-01) or an RFC 3339 time\n";
        return kBadInput;
      }
    }
  } else {
    auto w = a.get("--why");
    if (!w || w->empty()) {
      err << cmd << ": --why TEXT (why it is cancelled) is required\n";
      return kBadInput;
    }
    why = *w;
  }
  auto db = open_for_writing(cfg);
  if (!db) {
    err << cmd << ": " << db.error().message << "\n";
    return kFailure;
  }
  auto signer = cli_signer(**db, signer_options(a),
                           ack ? accounts::Action::kProposalAck : accounts::Action::kProposalCancel,
                           ack ? "order " + order : why);
  if (!signer) {
    err << cmd << ": " << signer.error().message << "\n";
    return signer.error().is_bad_input() ? kBadInput : kFailure;
  }
  auto done = actions::decide_proposal(**db, {id, ack, order, qty, eta, why},
                                       {signer->who, signer->signed_by_account, "cli"}, now_ms());
  if (!done) {
    err << cmd << ": " << done.error().message << "\n";
    return kBadInput;
  }
  out << done->id << " (" << done->sku << ") is " << replenish::to_string(done->state);
  if (ack)
    out << ": order " << done->order.order_number << ", " << done->order.quantity << " units, ETA "
        << timefmt::rfc3339_from_unix_ms(done->expected_arrival_ms);
  out << "\n";
  return kOk;
}

}  // namespace

int run_reorders(const Args& a, const LoadedConfig& cfg, std::ostream& out, std::ostream& err) {
  if (a.positional().empty()) {
    for (const char* opt : {"--order", "--qty", "--eta", "--why"})
      if (a.has(opt)) {
        err << "depot-agent reorders: " << opt << " needs 'ack ID' or 'cancel ID'\n";
        return kBadInput;
      }
    return list_reorders(a, cfg, out, err);
  }
  const auto& verb = a.positional()[0];
  if (verb != "ack" && verb != "cancel") {
    err << "depot-agent reorders: \"" << verb << "\" must be ack or cancel\n";
    return kBadInput;
  }
  return change_reorder(a, cfg, out, err);
}

int run_backtest(const Args& a, const LoadedConfig& cfg, std::ostream& out, std::ostream& err) {
  auto path = a.get("--history");
  if (!path) {
    err << "depot-agent backtest: --history FILE.csv is required\n";
    return kBadInput;
  }
  std::ifstream in(*path, std::ios::binary);
  if (!in) {
    err << "depot-agent backtest: --history: cannot read " << *path << "\n";
    return kBadInput;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto hist = replenish::parse_demand_csv(text.str());
  for (const auto& p : hist.problems) err << *path << ": " << p << " (line left out)\n";
  replenish::BacktestOptions options;
  options.demand = cfg.config.replenish.demand;
  if (auto oh = a.get("--on-hand")) {
    auto v = to_int(*oh);
    if (!v || *v < 0) {
      err << "depot-agent backtest: --on-hand: \"" << *oh << "\" must be a whole number >= 0\n";
      return kBadInput;
    }
    options.initial_on_hand = *v;
  }
  auto only = a.get("--sku");
  std::map<std::string, std::vector<replenish::DemandRow>> by_sku;
  for (auto& r : hist.rows)
    if (!only || r.sku == *only) by_sku[r.sku].push_back(r);
  if (only && by_sku.empty()) {
    err << "depot-agent backtest: --sku: \"" << *only << "\" has no valid lines in " << *path
        << "\n";
    return kBadInput;
  }
  if (by_sku.empty()) {
    err << "depot-agent backtest: " << *path << " has no valid demand lines\n";
    return kBadInput;
  }
  const auto& settings = cfg.config.replenish;
  replenish::CampaignIndex campaigns(settings.campaigns, cfg.config.catalog);
  auto results = nlohmann::json::array();
  bool any = false;
  for (const auto& [sku, rows] : by_sku) {
    nlohmann::json r{{"sku", sku}};
    const CatalogItem* item = nullptr;
    for (const auto& i : cfg.config.catalog)
      if (i.sku == sku) item = &i;
    const replenish::Policy* policy = item ? settings.find_policy(item->policy) : nullptr;
    if (!item) {
      r["status"] = "not in the catalog";
    } else if (!policy) {
      r["status"] = "no policy profile";
    } else {
      options.campaigns = campaigns.for_sku(sku);
      auto rep = replenish::backtest(rows, *item, *policy, options);
      any = true;
      r["status"] = "ok";
      r["policy"] = policy->name;
      r["days"] = rep.days;
      r["demand_units"] = rep.demand_units;
      r["filled_units"] = rep.filled_units;
      r["lost_units"] = rep.lost_units;
      r["fill_rate"] = rep.fill_rate;
      r["stockout_days"] = rep.stockout_days;
      r["average_on_hand"] = rep.average_on_hand;
      r["orders_placed"] = rep.orders_placed;
      r["urgent_orders"] = rep.urgent_orders;
      r["units_ordered"] = rep.units_ordered;
      r["ending_on_hand"] = rep.ending_on_hand;
    }
    results.push_back(std::move(r));
  }
  if (a.has("--json")) {
    out << nlohmann::json{{"history", *path},
                          {"lines_left_out", hist.problems.size()},
                          {"skus", results}}
               .dump(2)
        << "\n";
  } else {
    out << std::left << std::setw(18) << "SKU" << std::setw(10) << "POLICY" << std::right
        << std::setw(6) << "DAYS" << std::setw(9) << "DEMAND" << std::setw(8) << "FILL%"
        << std::setw(8) << "LOST" << std::setw(10) << "STOCKOUT" << std::setw(10) << "AVG_OH"
        << std::setw(8) << "ORDERS" << std::setw(8) << "URGENT" << std::setw(10) << "ORDERED"
        << "\n";
    for (const auto& r : results) {
      out << std::left << std::setw(18) << r["sku"].get<std::string>();
      if (r["status"] != "ok") {
        out << r["status"].get<std::string>() << "\n";
        continue;
      }
      out << std::setw(10) << r["policy"].get<std::string>() << std::right << std::setw(6)
          << r["days"].get<std::int64_t>() << std::setw(9) << r["demand_units"].get<std::int64_t>()
          << std::setw(8) << fixed(100 * r["fill_rate"].get<double>()) << std::setw(8)
          << r["lost_units"].get<std::int64_t>() << std::setw(10)
          << r["stockout_days"].get<std::int64_t>() << std::setw(10)
          << fixed(r["average_on_hand"].get<double>()) << std::setw(8)
          << r["orders_placed"].get<std::int64_t>() << std::setw(8)
          << r["urgent_orders"].get<std::int64_t>() << std::setw(10)
          << r["units_ordered"].get<std::int64_t>() << "\n";
    }
    out << "FILL% is units filled / units demanded over the history (lost sales, no "
           "backorders): not the policy's service level, which is the chance of no stockout "
           "in a replenishment cycle.\n";
  }
  if (!hist.problems.empty()) return kBadInput;
  return any ? kOk : kBadInput;
}

int run_campaigns(const Args& a, const LoadedConfig& cfg, std::ostream& out, std::ostream& err) {
  // The same merge as the daemon's (app/replenishment.cpp): the config's campaigns, then the
  // cloud's (campaign.set), which replace a config campaign of the same name.
  struct Row {
    replenish::Campaign c;
    std::string source;
  };
  std::vector<Row> rows;
  for (const auto& c : cfg.config.replenish.campaigns) rows.push_back({c, "config"});
  auto db = open_for_reading(cfg);
  if (!db) {
    err << "depot-agent campaigns: " << db.error().message << "\n";
    return kFailure;
  }
  auto cloud = store::load_campaigns(**db);
  if (!cloud) {
    err << "depot-agent campaigns: " << cloud.error().message << "\n";
    return kFailure;
  }
  for (auto& c : *cloud) {
    auto same = std::find_if(rows.begin(), rows.end(),
                             [&](const Row& r) { return r.c.name == c.name; });
    if (same != rows.end())
      *same = {std::move(c), "cloud (replaces the config's)"};
    else
      rows.push_back({std::move(c), "cloud"});
  }
  const auto now = now_ms();
  auto state = [&](const replenish::Campaign& c) {
    return now < c.start_ms ? "upcoming" : now < c.end_ms ? "active" : "ended";
  };
  auto targets = [](const replenish::Campaign& c) {
    std::string t;
    for (const auto& sku : c.skus) t += (t.empty() ? "" : ", ") + sku;
    if (!c.policy.empty()) t += (t.empty() ? "" : ", ") + std::string("policy ") + c.policy;
    return t;
  };
  if (a.has("--json")) {
    auto arr = nlohmann::json::array();
    for (const auto& r : rows)
      arr.push_back({{"name", r.c.name},
                     {"state", state(r.c)},
                     {"source", r.source},
                     {"factor", r.c.factor},
                     {"start", timefmt::rfc3339_from_unix_ms(r.c.start_ms)},
                     {"end", timefmt::rfc3339_from_unix_ms(r.c.end_ms)},
                     {"skus", r.c.skus},
                     {"policy", r.c.policy.empty() ? nlohmann::json() : nlohmann::json(r.c.policy)}});
    out << arr.dump(2) << "\n";
    return kOk;
  }
  if (rows.empty()) {
    out << "no campaigns\n";
    return kOk;
  }
  for (const auto& r : rows)
    out << r.c.name << "  " << state(r.c) << "  x" << fixed(r.c.factor, 2) << "  "
        << timefmt::rfc3339_from_unix_ms(r.c.start_ms) << " .. "
        << timefmt::rfc3339_from_unix_ms(r.c.end_ms) << " (end excluded)  " << targets(r.c)
        << "  from " << r.source << "\n";
  return kOk;
}

std::unique_ptr<StockFigures> StockFigures::compute(store::Database& db,
                                                    const replenish::Settings& s,
                                                    std::span<const CatalogItem> catalog,
                                                    std::ostream& err) {
  auto f = std::make_unique<StockFigures>();
  f->engine_ = std::make_unique<Replenishment>(db, s, Replenishment::Mode::kReadOnly);
  f->engine_->use_catalog(catalog);
  const auto now = f->now_ms_ = now_ms();
  // One read transaction: a consistent snapshot beside a running daemon, and one lock instead
  // of a lock round trip (fcntl, fstat) for each of the per-SKU statements.
  if (auto st = db.exec("BEGIN"); !st) {
    err << "depot-agent stock: replenishment figures unavailable: " << st.error().message << "\n";
    return nullptr;
  }
  auto loaded = f->engine_->load(now);
  (void)db.exec("COMMIT");  // what follows is computed in memory
  if (!loaded) {
    err << "depot-agent stock: replenishment figures unavailable: " << loaded.error().message
        << "\n";
    return nullptr;
  }
  return f;
}

std::optional<SkuReplenishment> StockFigures::find(std::string_view sku) const {
  return engine_->report(sku, now_ms_);
}

void append_null_figures(JsonObjectWriter& w) {
  for (const char* k :
       {"policy", "on_order", "position", "daily_demand", "daily_demand_sd", "safety_stock",
        "reorder_point", "order_up_to", "days_of_cover", "surge", "replenishment"})
    w.null(k);
}

void StockFigures::append_json(JsonObjectWriter& w, std::string_view sku) const {
  const auto r = find(sku);
  if (!r) {
    append_null_figures(w);
    return;
  }
  const auto& n = r->decision.numbers;
  if (r->has_policy)
    w.field("policy", r->policy);
  else
    w.null("policy");
  w.field("on_order", n.on_order).field("position", n.position);
  w.number("daily_demand", n.daily_demand).number("daily_demand_sd", n.daily_demand_sd);
  if (r->has_policy) {
    w.number("safety_stock", n.safety_stock)
        .number("reorder_point", n.reorder_point)
        .number("order_up_to", n.order_up_to)
        .number("days_of_cover", n.days_of_cover);
  } else {
    w.null("safety_stock").null("reorder_point").null("order_up_to").null("days_of_cover");
  }
  w.field("surge", r->surge);
  w.field("replenishment", replenish::to_string(r->decision.reason));
}

const std::vector<CliCommand>& replenish_commands() {
  static const std::vector<CliCommand> commands = {
      {"reorders",
       {kConfigOption, kJsonOption, {"--open", false, ""}, {"--order", true, ""},
        {"--qty", true, ""}, {"--eta", true, ""}, {"--why", true, ""}, kSignUser,
        kSignPasswordFile, {"--who", true, ""}},
       [](const Args& a, CliContext& c) {
         auto cfg = cli_load_config(a, c);
         return cfg ? run_reorders(a, *cfg, c.out, c.err) : kBadInput;
       },
       2},
      {"campaigns", {kConfigOption, kJsonOption},
       [](const Args& a, CliContext& c) {
         auto cfg = cli_load_config(a, c);
         return cfg ? run_campaigns(a, *cfg, c.out, c.err) : kBadInput;
       }},
      {"backtest",
       {kConfigOption, kJsonOption, {"--history", true, ""}, {"--sku", true, ""},
        {"--on-hand", true, ""}},
       [](const Args& a, CliContext& c) {
         auto cfg = cli_load_config(a, c);
         return cfg ? run_backtest(a, *cfg, c.out, c.err) : kBadInput;
       }},
  };
  return commands;
}

}  // namespace depot::app
