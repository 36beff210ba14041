#include "app/cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/args.hpp"
#include "base/clock.hpp"
#include "base/resident.hpp"
#include "app/coldchain_cli.hpp"
#include "app/report_cli.hpp"
#include "app/users_cli.hpp"
#include "app/config_file.hpp"
#include "app/sensors_cli.hpp"
#include "app/daemon.hpp"
#include "app/replenish_cli.hpp"
#include "app/store_access.hpp"
#include "app/views.hpp"
#include "core/barcode.hpp"
#include "core/lots.hpp"
#include "core/json_parse.hpp"
#include "core/control_code.hpp"
#include "core/control_sheet.hpp"
#include "core/json_writer.hpp"
#include "core/scan.hpp"
#include "core/scan_station.hpp"
#include "core/orders.hpp"
#include "store/orders_store.hpp"
#include "store/rejects.hpp"
#include "core/time.hpp"
#include "store/ledger.hpp"

namespace depot::app {
namespace {

constexpr const char* kUsage = R"(usage: depot-agent <command> [options]

commands:
  run        [-c FILE]                 run the agent (the systemd service runs this)
  check      [-c FILE] [--syntax]      validate a config file; lists every problem
                                       (--syntax: not the files it names on this machine)
  stock      [-c FILE] [--sku S] [--lots] [--json]
                                       stock per SKU: on hand, held, available, and for
                                       replenishment on order, position, reorder point, cover
                                       (--lots: per lot, with expiry, FEFO order first)
  reorders   [-c FILE] [--open] [--json]
                                       replenishment proposals with the numbers behind them
  reorders ack ID --order NUMBER [--qty N] [--eta YYYY-MM-DD] SIGNER
  reorders cancel ID --why TEXT SIGNER manage a proposal locally (when there is no cloud)
  campaigns  [-c FILE] [--json]        campaigns from the config and the cloud: state now
                                       (upcoming, active, ended), factor, window, targets
  backtest   [-c FILE] --history FILE.csv [--sku S] [--on-hand N] [--json]
                                       replay a demand history (date,sku,quantity) through
                                       the configured policy: fill rate, stockout days, ...
  scan       [-c FILE] --kind pick|receive|return|count --code CODE [--qty N] [--lot L]
             [--expiry YYYY-MM-DD] [--order ID]
             [--id ID] [--json]        record a scan, exactly as a scanner would (CODE as
                                       for decode: GS1, EAN/UPC or an internal code; a
                                       count is signed: SIGNER)
  movements  [-c FILE] [--sku S] [--since T] [--limit N] [--json]
                                       the ledger, oldest first (--limit: the newest N);
                                       T is RFC 3339, a date or
                                       an age like 15m, 2h, 3d
  orders     [-c FILE] [--order ID] [--sku S] [--all] [--limit N] [--json]
                                       customer order lines (open ones; --all: released and
                                       shipped too): reserved, backordered, picked
  rejects    [-c FILE] [--since T] [--limit N] [--json]
                                       scans that changed nothing, with raw bytes and reason
  decode     [-c FILE] [--json] DATA   what a scan means: its GS1 fields, GTIN or control
                                       code, and with -c the SKU and units per scan. In DATA,
                                       \x1d or <GS> stands for the GS (FNC1) separator
  sensors discover [--w1-root DIR] [--hwmon-root DIR] [--json]
                                       the 1-Wire and hwmon temperature probes on this
                                       machine, one reading each, for writing `sensors`
  control-sheet --out FILE.svg         write the operator control codes as printable
                                       Code 128 barcodes
  version                              print the version

SIGNER is --user ID [--password-file F]: an account (see 'users'), whose password is asked
on the terminal or read from F; before any account exists, --who NAME.
-c FILE defaults to /etc/depot-agent/agent.json (decode reads a catalog only when given -c).
Exit codes: 0 ok, 1 failure, 2 bad input. docs/barcodes.md explains decode and control codes.
)";


std::optional<std::int64_t> to_int(const std::string& s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Command-line stand-ins for the GS separator: "\x1d" (either case) and "<GS>".
std::string unescape_gs(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    if (s.substr(i, 4) == "\\x1d" || s.substr(i, 4) == "\\x1D") {
      out += barcode::kGs;
      i += 4;
    } else if (s.substr(i, 4) == "<GS>") {
      out += barcode::kGs;
      i += 4;
    } else {
      out += s[i++];
    }
  }
  return out;
}

using Context = CliContext;

std::optional<LoadedConfig> load(const Args& a, Context& c) { return cli_load_config(a, c); }

int cmd_check(const Args& a, Context& c) {
  auto path = a.get("--config").value_or(kDefaultConfigPath);
  auto r = load_config_file(path);
  if (!r.loaded) {
    c.err << path << ": " << r.problems.size() << " problem"
          << (r.problems.size() == 1 ? "" : "s") << ":\n";
    for (const auto& p : r.problems) c.err << "  " << p << "\n";
    return kBadInput;
  }
  const auto& cfg = r.loaded->config;
  const bool here = !a.has("--syntax");  // --syntax: an example config, away from its gateway
  // A credential that cannot be read is an error (the agent would refuse to start); what else
  // this machine may lack is a warning, not a config error.
  std::vector<std::string> unseen;  // systemd credentials, absent while the service is stopped
  auto creds = here ? check_credentials(*r.loaded, &unseen) : std::vector<std::string>{};
  if (auto bad = here ? database_not_a_file(*r.loaded) : std::string(); !bad.empty())
    creds.push_back(bad);  // `run` refuses it too
  if (creds.empty())
    c.out << path << ": ok (site " << cfg.site << ", gateway " << cfg.gateway << ", "
          << cfg.catalog.size() << " SKUs, database " << r.loaded->database_path << ")\n";
  for (const auto& w : coldchain::config_warnings(cfg.zones, cfg.sensors, cfg.alarm_outputs,
                                                 cfg.retention, instant_now().wall_ms))
    c.err << "warning: " << w << "\n";
  if (!here) return kOk;
  // An exec output whose program is not there (or not executable) would fail at the alarm.
  for (std::size_t i = 0; i < cfg.alarm_outputs.outputs.size(); ++i) {
    const auto& o = cfg.alarm_outputs.outputs[i];
    if (o.kind == coldchain::OutputKind::kExec && !o.exec.command.empty() &&
        ::access(o.exec.command[0].c_str(), X_OK) != 0)
      c.err << "warning: outputs[" << i << "].exec.command[0]: " << o.exec.command[0]
            << " is not an executable file on this machine\n";
  }
  for (const auto& w : check_environment(*r.loaded)) c.err << "warning: " << w << "\n";
  for (const auto& n : unseen) c.err << "note: " << n << "\n";
  for (const auto& e : creds) c.err << "error: " << e << "\n";
  return creds.empty() ? kOk : kBadInput;
}

// Loads the config and opens its database for reading; prints the problem and sets `code`
// on failure.
std::unique_ptr<store::Database> open_read(const Args& a, Context& c, int& code,
                                           std::optional<LoadedConfig>* keep = nullptr) {
  auto cfg = load(a, c);
  if (!cfg) {
    code = kBadInput;
    return nullptr;
  }
  auto db = open_for_reading(*cfg);
  if (keep) *keep = std::move(cfg);
  if (!db) {
    c.err << "depot-agent: " << db.error().message << "\n";
    code = kFailure;
    return nullptr;
  }
  return std::move(*db);
}

int stock_lots(store::Database& db, const Config& cfg, const std::optional<std::string>& sku,
               bool as_json, Context& c) {
  if (as_json) {
    if (auto st = views::write_lots(c.out, db, cfg, sku); !st) {
      c.err << "depot-agent: " << (st.error().is_bad_input() ? "--sku: " : "")
            << st.error().message << "\n";
      return st.error().is_bad_input() ? kBadInput : kFailure;
    }
    return kOk;
  }
  auto rows = views::lot_lines(db, cfg, sku);
  if (!rows) {
    c.err << "depot-agent: " << (rows.error().is_bad_input() ? "--sku: " : "")
          << rows.error().message << "\n";
    return rows.error().is_bad_input() ? kBadInput : kFailure;
  }
  TextTable table({{"SKU"}, {"LOT"}, {"EXPIRY"}, {"DAYS", true}, {"ON_HAND", true},
                   {"HELD", true}, {"AVAILABLE", true}, {"STATE"}});
  for (const auto& r : *rows)
    table.add({r.sku, r.lot ? *r.lot : "(no lot)", r.expiry ? *r.expiry : "-",
               r.days_left ? std::to_string(*r.days_left) : "-", std::to_string(r.on_hand),
               std::to_string(r.held), std::to_string(r.available),
               r.expired ? "EXPIRED" : r.short_dated ? "SHORT-DATED" : r.held ? "held" : ""});
  table.print(c.out);
  if (rows->empty()) c.out << "(no stock in lots)\n";
  return kOk;
}

int cmd_stock(const Args& a, Context& c) {
  int code = kOk;
  std::optional<LoadedConfig> cfg;
  auto db = open_read(a, c, code, &cfg);
  if (!db) return code;
  auto sku = a.get("--sku");
  if (a.has("--lots")) return stock_lots(*db, cfg->config, sku, a.has("--json"), c);
  if (a.has("--json")) {
    auto st = views::write_stock(c.out, *db, cfg->config, {.sku = sku}, c.err);
    if (st) return kOk;
    c.err << "depot-agent: " << (st.error().is_bad_input() ? "--sku: " : "")
          << st.error().message << "\n";
    return st.error().is_bad_input() ? kBadInput : kFailure;
  }
  store::Ledger ledger(*db, lot_rules(cfg->config));
  auto rows = ledger.stock(sku);
  if (!rows) {
    c.err << "depot-agent: " << rows.error().message << "\n";
    return kFailure;
  }
  if (sku && rows->empty()) {
    c.err << "depot-agent: --sku: unknown sku \"" << *sku << "\"\n";
    return kBadInput;
  }
  // Replenishment figures (replenish_cli.cpp): computed read-only from the same database.
  auto figures = StockFigures::compute(*db, cfg->config.replenish, cfg->config.catalog, c.err);
  TextTable table({{"SKU"}, {"ON_HAND", true}, {"HELD", true}, {"RESERVED", true},
                   {"AVAILABLE", true}, {"BACKORD", true}, {"ON_ORDER", true},
                   {"POSITION", true}, {"REORDER", true}, {"COVER_D", true}, {"UNIT"}, {"NAME"}});
  auto num = [](double v) {
    if (!std::isfinite(v)) return std::string("inf");
    std::ostringstream o;
    o << std::fixed << std::setprecision(v < 100 ? 1 : 0) << v;
    return o.str();
  };
  using std::to_string;
  for (const auto& s : *rows) {
    std::optional<SkuReplenishment> f;
    if (figures) f = figures->find(s.sku);
    const bool policy = f && f->has_policy;
    table.add({s.sku, to_string(s.line.on_hand), to_string(s.line.held),
               to_string(s.line.reserved), to_string(s.line.available()),
               to_string(s.line.backordered),
               f ? to_string(f->decision.numbers.on_order) : "-",
               f ? to_string(f->decision.numbers.position) : "-",
               policy ? num(f->decision.numbers.reorder_point) : "-",
               policy ? num(f->decision.numbers.days_of_cover) : "-",
               printable(s.unit, kMaxUnitBytes),
               printable(s.name, kMaxNameBytes) + (f && !f->has_policy ? "  [no policy]" : "") +
                   (f && f->surge ? "  [SURGE]" : "") +
                   (s.line.on_hand < 0 ? "  [NEGATIVE STOCK]" : "") +
                   (s.line.expired ? "  [EXPIRED " + to_string(s.line.expired) + "]" : "") +
                   (s.active ? "" : "  [inactive]")});
  }
  table.print(c.out);
  return kOk;
}

int cmd_scan(const Args& a, Context& c) {
  auto kind_s = a.get("--kind");
  auto code = a.get("--code");
  if (!kind_s || !code) {
    c.err << "depot-agent scan: " << (!kind_s ? "--kind" : "--code") << " is required\n";
    return kBadInput;
  }
  auto kind = parse_movement_kind(*kind_s);
  if (!kind || (*kind != MovementKind::kPick && *kind != MovementKind::kReceive &&
                *kind != MovementKind::kReturn && *kind != MovementKind::kCount)) {
    c.err << "depot-agent scan: --kind: \"" << *kind_s
          << "\" must be one of: pick, receive, return, count\n";
    return kBadInput;
  }
  ScanIntent intent;
  intent.code = unescape_gs(*code);
  intent.kind = *kind;
  intent.reference_year = current_year();
  if (auto q = a.get("--qty")) {
    auto n = to_int(*q);
    if (!n) {
      c.err << "depot-agent scan: --qty: \"" << *q << "\" must be a whole number\n";
      return kBadInput;
    }
    intent.count = *n;
  } else if (*kind == MovementKind::kCount) {
    c.err << "depot-agent scan: --qty is required for a count (how many were counted)\n";
    return kBadInput;
  }
  intent.lot = a.get("--lot");
  if (intent.lot) {
    if (auto why = lot_problem(*intent.lot); !why.empty()) {
      c.err << "depot-agent scan: --lot: " << why << "\n";
      return kBadInput;
    }
  }
  auto order = a.get("--order");
  if (order) {
    if (*kind != MovementKind::kPick) {
      c.err << "depot-agent scan: --order goes with --kind pick (a pick for that order takes its "
               "reservation)\n";
      return kBadInput;
    }
    if (auto why = orders::order_id_problem(*order); !why.empty()) {
      c.err << "depot-agent scan: --order: \"" << printable(*order, 80) << "\" " << why << "\n";
      return kBadInput;
    }
  }
  auto id = a.get("--id").value_or(new_id());
  if (id.empty() || id.size() > 128 ||
      std::any_of(id.begin(), id.end(), [](char ch) { return ch <= ' ' || ch > '~'; })) {
    c.err << "depot-agent scan: --id: \"" << id
          << "\" must be 1-128 printable ASCII characters without spaces\n";
    return kBadInput;
  }

  auto cfg = load(a, c);
  if (!cfg) return kBadInput;
  auto db = open_for_writing(*cfg);
  if (!db) {
    c.err << "depot-agent: " << db.error().message << "\n";
    return kFailure;
  }
  auto catalog = store::load_catalog(**db);
  if (!catalog) {
    c.err << "depot-agent: loading the catalog: " << catalog.error().message << "\n";
    return kFailure;
  }
  // A count sets stock to what a person says is there: signed (a scanner's count is the
  // scanner's, as before).
  std::string source = "cli";
  if (*kind == MovementKind::kCount) {
    auto signer = cli_signer(**db, signer_options(a), accounts::Action::kCount,
                             "count of " + intent.code);
    if (!signer) {
      c.err << "depot-agent scan: " << signer.error().message << "\n";
      return signer.error().is_bad_input() ? kBadInput : kFailure;
    }
    source = "cli:" + signer->who;
  } else if (a.has("--user") || a.has("--who") || a.has("--password-file")) {
    c.err << "depot-agent scan: --user/--who/--password-file sign a count only\n";
    return kBadInput;
  }
  auto resolved = resolve_scan(*catalog, intent);
  if (!resolved) {
    // The same trace a scanner's reject leaves: kept with its raw bytes and reason.
    store::Reject rj{0, "cli", escape_bytes(intent.code), resolved.error().message, wall_now(),
                     mono_now_ns()};
    auto seq = store::record_reject(**db, rj);
    c.err << "depot-agent scan: rejected, stock unchanged: " << resolved.error().message;
    if (seq) c.err << " (reject #" << *seq << ")";
    c.err << "\n";
    return kBadInput;
  }
  // A lot's expiry from the operator when the label carries none (AI 17 wins otherwise).
  if (auto exp = a.get("--expiry")) {
    if (!lots::days_left(*exp, *exp)) {
      c.err << "depot-agent scan: --expiry: \"" << printable(*exp, 40)
            << "\" must be a date YYYY-MM-DD\n";
      return kBadInput;
    }
    if (!resolved->lot) {
      c.err << "depot-agent scan: --expiry: needs a lot (--lot or AI (10) on the label)\n";
      return kBadInput;
    }
    if (resolved->expiry && *resolved->expiry != *exp) {
      c.err << "depot-agent scan: --expiry: " << *exp << " differs from " << *resolved->expiry
            << " on the label, AI (17)\n";
      return kBadInput;
    }
    resolved->expiry = *exp;
  }
  MovementRequest m;
  m.id = id;
  m.sku = resolved->sku;
  m.kind = *kind;
  m.quantity = resolved->quantity;
  m.source = source;
  m.lot = resolved->lot;
  m.expiry = resolved->expiry;
  m.serial = resolved->serial;
  m.order_id = order;
  m.wall_time = wall_now();
  m.mono_ns = mono_now_ns();
  store::Ledger ledger(**db, lot_rules(cfg->config));
  auto results = ledger.post(std::span(&m, 1));
  if (!results) {
    c.err << "depot-agent: not recorded: " << results.error().message << "\n";
    return kFailure;
  }
  const auto& r = (*results)[0];
  if (r.outcome == store::PostOutcome::kRejected) {
    c.err << "depot-agent scan: rejected, stock unchanged: " << r.error << "\n";
    return kBadInput;
  }
  if (a.has("--json")) {
    nlohmann::json j{{"outcome", r.outcome == store::PostOutcome::kPosted ? "posted" : "duplicate"},
                     {"id", m.id},
                     {"sku", m.sku},
                     {"kind", to_string(m.kind)}};
    if (r.outcome == store::PostOutcome::kPosted) {
      j["qty"] = r.posting.on_hand_delta;
      j["on_hand"] = r.after.on_hand;
      j["available"] = r.after.available();
      j["reserved"] = r.after.reserved;
      j["backordered"] = r.after.backordered;
      j["negative"] = r.posting.negative;
      if (m.order_id)
        j["order_id"] = *m.order_id, j["reservation_taken"] = r.posting.reservation_taken,
        j["order_unmatched"] = r.posting.order_unmatched;
      if (r.posting.counted) j["counted"] = *r.posting.counted;
      if (r.after.expired) j["expired"] = r.after.expired;
      if (!r.lots.empty()) {
        j["lots"] = nlohmann::json::array();
        for (const auto& d : r.lots)
          j["lots"].push_back({{"lot", d.lot},
                               {"expiry", d.expiry ? nlohmann::json(*d.expiry) : nlohmann::json()},
                               {"qty", d.on_hand},
                               {"held_qty", d.held}});
      }
    }
    c.out << j.dump() << "\n";
    return kOk;
  }
  if (r.outcome == store::PostOutcome::kDuplicate) {
    c.out << "duplicate: movement " << m.id << " was already recorded; stock unchanged\n";
    return kOk;
  }
  c.out << to_string(m.kind) << " " << m.sku << " " << std::showpos << r.posting.on_hand_delta
        << std::noshowpos << " -> on hand " << r.after.on_hand << ", available "
        << r.after.available() << " (movement " << m.id << ")\n";
  // Units received into a lot past its expiry are on hand, not available: said, so a date
  // typed wrong (or goods delivered expired) is seen at the dock, not at the next pick.
  if (m.kind == MovementKind::kReceive && m.lot && m.expiry) {
    const auto left = lots::days_left(*m.expiry, store::site_date(cfg->config.site_zone, m.wall_time));
    if (left && *left < 0)
      c.out << "warning: lot " << printable(*m.lot, 128) << " expired on " << *m.expiry
            << ": its units are on hand, not available (check the date; hold or write them off)\n";
  }
  if (!r.lots.empty() && !m.lot) {
    c.out << "lots (" << lots::to_string(cfg->config.replenish.lots.picking) << "):";
    for (const auto& d : r.lots)
      c.out << " " << d.lot << (d.expiry ? " (exp " + *d.expiry + ")" : "") << " "
            << std::showpos << d.on_hand << std::noshowpos;
    c.out << "\n";
  }
  if (m.order_id && r.posting.order_unmatched)
    c.out << "warning: order " << printable(*m.order_id, 128) << " has no open line for " << m.sku
          << " on this gateway: recorded as picked, nothing reserved was taken (check the order "
             "id; 'depot-agent orders' lists the open ones)\n";
  else if (m.order_id)
    c.out << "order " << *m.order_id << ": " << r.posting.reservation_taken
          << " taken from its reservation (" << r.after.reserved << " reserved for open orders)\n";
  if (r.posting.negative)
    c.out << "warning: " << m.sku << " is now NEGATIVE (" << r.after.on_hand
          << "): recorded as scanned; count the location to correct it\n";
  return kOk;
}

// --since T: RFC 3339, a date, or an age (15m, 2h, 3d) before now; normalised to stored text.
bool parse_since(const Args& a, const char* cmd, Context& c, std::optional<std::string>& out) {
  auto s = a.get("--since");
  if (!s) return true;
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  out = views::parse_since(*s, now);
  if (!out) {
    c.err << "depot-agent " << cmd << ": --since: \"" << *s << "\" " << views::kSinceRule << "\n";
    return false;
  }
  return true;
}

bool parse_limit(const Args& a, const char* cmd, Context& c, std::int64_t& out) {
  auto l = a.get("--limit");
  if (!l) return true;
  auto n = views::parse_limit(*l);
  if (!n) {
    c.err << "depot-agent " << cmd << ": --limit: \"" << *l << "\" " << views::kLimitRule << "\n";
    return false;
  }
  out = *n;
  return true;
}

int cmd_rejects(const Args& a, Context& c) {
  std::optional<std::string> since;
  std::int64_t limit = 0;
  if (!parse_since(a, "rejects", c, since) || !parse_limit(a, "rejects", c, limit)) return kBadInput;
  int code = kOk;
  auto db = open_read(a, c, code);
  if (!db) return code;
  if (a.has("--json")) {
    auto st = views::write_rejects(c.out, *db, {.since = since, .limit = limit});
    if (!st) c.err << "depot-agent: " << st.error().message << "\n";
    return st ? kOk : kFailure;
  }
  auto rows = store::list_rejects(*db, since, limit);
  if (!rows) {
    c.err << "depot-agent: " << rows.error().message << "\n";
    return kFailure;
  }
  for (const auto& r : *rows)
    c.out << r.wall_time << "  #" << r.seq << "  [" << r.source << "]  \"" << r.raw << "\"  "
          << r.reason << "\n";
  if (rows->empty()) c.out << "no rejects\n";
  return kOk;
}

// Customer order lines (store/orders_store): open ones, or every one with --all.
int cmd_orders(const Args& a, Context& c) {
  store::OrderFilter f;
  f.order_id = a.get("--order");
  f.sku = a.get("--sku");
  f.open_only = !a.has("--all");
  if (!parse_limit(a, "orders", c, f.limit)) return kBadInput;
  int code = kOk;
  auto db = open_read(a, c, code);
  if (!db) return code;
  auto lines = store::order_lines(*db, f);
  if (!lines) {
    c.err << "depot-agent: " << lines.error().message << "\n";
    return kFailure;
  }
  if (a.has("--json")) {
    auto arr = nlohmann::json::array();
    for (const auto& l : *lines) {
      auto j = store::order_line_json(l);
      j["order_id"] = l.order_id;
      j["channel"] = l.channel;
      j["created_at"] = l.created_at;
      j["updated_at"] = l.updated_at;
      arr.push_back(std::move(j));
    }
    c.out << arr.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kOk;
  }
  TextTable table({{"ORDER"}, {"SKU"}, {"QTY", true}, {"RESERVED", true}, {"BACKORD", true},
                   {"PICKED", true}, {"STATE"}, {"CREATED"}, {"CHANNEL"}});
  for (const auto& l : *lines)
    table.add({l.order_id, l.sku, std::to_string(l.qty), std::to_string(l.reserved),
               std::to_string(l.backordered), std::to_string(l.picked),
               std::string(orders::to_string(l.state)), l.created_at.substr(0, 19), l.channel});
  table.print(c.out);
  if (lines->empty()) c.out << (f.open_only ? "(no open orders)\n" : "(no orders)\n");
  return kOk;
}

int cmd_movements(const Args& a, Context& c) {
  store::MovementFilter f;
  f.sku = a.get("--sku");
  if (!parse_since(a, "movements", c, f.since)) return kBadInput;
  if (!parse_limit(a, "movements", c, f.limit)) return kBadInput;
  int code = kOk;
  auto db = open_read(a, c, code);
  if (!db) return code;
  if (a.has("--json")) {
    auto st = views::write_movements(c.out, *db, {.sku = f.sku, .since = f.since, .limit = f.limit});
    if (st) return kOk;
    c.err << "depot-agent: " << (st.error().is_bad_input() ? "--sku: " : "")
          << st.error().message << "\n";
    return st.error().is_bad_input() ? kBadInput : kFailure;
  }
  store::Ledger ledger(*db);
  auto rows = ledger.movements(f);
  if (!rows) {
    c.err << "depot-agent: " << (rows.error().is_bad_input() ? "--sku: " : "")
          << rows.error().message << "\n";
    return rows.error().is_bad_input() ? kBadInput : kFailure;
  }
  for (const auto& m : *rows) {
    c.out << m.wall_time << "  " << std::left << std::setw(8) << m.kind << " " << std::setw(16)
          << m.sku << std::right << std::showpos << std::setw(7) << m.qty << std::noshowpos
          << "  -> " << m.on_hand_after;
    if (m.counted) c.out << "  counted " << *m.counted;
    if (m.held_qty) c.out << "  held " << std::showpos << m.held_qty << std::noshowpos;
    if (m.lot) c.out << "  lot " << *m.lot;
    if (m.expiry) c.out << "  exp " << *m.expiry;
    if (m.serial) c.out << "  serial " << *m.serial;
    if (m.reverses) c.out << "  undoes " << *m.reverses;
    if (m.order_id) c.out << "  order " << *m.order_id;
    c.out << "  [" << m.source << "] " << m.id << (m.negative ? "  NEGATIVE" : "")
          << (m.serial_repeat ? "  SERIAL ALREADY PICKED" : "") << "\n";
  }
  return kOk;
}

nlohmann::json decoded_json(const barcode::Decoded& d) {
  nlohmann::json j{{"kind", barcode::to_string(d.kind)}, {"format", d.format}};
  if (!d.symbology.empty()) {
    j["symbology"] = d.symbology;
    j["symbology_name"] = barcode::symbology_name(d.symbology);
  }
  if (d.kind == barcode::Kind::kGs1) {
    j["fields"] = nlohmann::json::array();
    for (const auto& f : d.fields)
      j["fields"].push_back(
          {{"ai", f.ai}, {"title", f.title}, {"value", f.value}, {"text", f.text}});
    j["hri"] = barcode::to_hri(d.fields);
  } else {
    j["code"] = d.data;
  }
  auto opt = [&](const char* key, const auto& v) {
    if (v) j[key] = *v;
  };
  opt("gtin", d.gtin);
  opt("content_gtin", d.content_gtin);
  opt("sscc", d.sscc);
  opt("lot", d.lot);
  opt("serial", d.serial);
  opt("expiry", d.expiry);
  opt("best_before", d.best_before);
  opt("production_date", d.production_date);
  opt("packaging_date", d.packaging_date);
  opt("variable_count", d.variable_count);
  opt("trade_item_count", d.trade_item_count);
  opt("add_on", d.add_on);
  return j;
}

void print_row(std::ostream& out, std::string_view key, const std::string& value) {
  out << std::left << std::setw(11) << key << value << "\n";
}

int cmd_decode(const Args& a, Context& c) {
  if (a.positional().size() != 1) {
    c.err << "depot-agent decode: give the scanned data as one argument, e.g. "
             "depot-agent decode ']C10104006381333931'\n";
    return kBadInput;
  }
  const std::string data = unescape_gs(a.positional()[0]);
  const bool json = a.has("--json");

  if (auto control = parse_control(data)) {
    if (!*control) {
      c.err << "depot-agent decode: rejected: " << control->error().message << "\n";
      return kBadInput;
    }
    const auto& cc = **control;
    if (json) {
      c.out << nlohmann::json{{"kind", "control"},
                              {"control", control_text(cc)},
                              {"label", control_label(cc)}}
                   .dump()
            << "\n";
    } else {
      print_row(c.out, "control", control_text(cc) + "  (" + control_label(cc) + ")");
    }
    return kOk;
  }

  const int year = current_year();
  auto decoded = barcode::decode(data, year);
  if (!decoded) {
    c.err << "depot-agent decode: rejected: " << decoded.error().message << "\n";
    return kBadInput;
  }
  const auto& d = *decoded;

  std::optional<Expected<ResolvedScan>> resolved;
  if (a.has("--config")) {
    auto cfg = load(a, c);
    if (!cfg) return kBadInput;
    // The catalog the daemon scans against: the database's (the config's as last applied, and
    // what the cloud's catalog.upsert and catalog.remove changed since); the config's when
    // there is no database yet or it cannot be read (said on stderr).
    std::optional<Expected<Catalog>> catalog;
    std::error_code ec;
    const bool there = std::filesystem::exists(cfg->database_path, ec);
    if (ec) {
      c.err << "depot-agent decode: the config's catalog (the database's cannot be read: "
            << cfg->database_path << ": " << ec.message() << ")\n";
    } else if (there) {  // read-only, without the audit key (decode writes nothing)
      auto db = store::Database::open(
          cfg->database_path,
          {.busy_timeout_ms = cfg->config.durability.busy_timeout_ms, .read_only = true});
      if (db) catalog = store::load_catalog(**db);
      if (!db || !*catalog) {
        c.err << "depot-agent decode: the config's catalog (the database's cannot be read: "
              << (db ? (*catalog).error().message : db.error().message) << ")\n";
        catalog.reset();
      }
    }
    if (!catalog) catalog = Catalog::build(cfg->config.catalog);
    if (!*catalog) {
      c.err << "depot-agent decode: the catalog: " << catalog->error().message << "\n";
      return kBadInput;
    }
    resolved = resolve_scan(**catalog, {.code = data, .reference_year = year});
  }

  if (json) {
    auto j = decoded_json(d);
    if (resolved && *resolved) {
      j["sku"] = (*resolved)->sku;
      j["units_per_scan"] = (*resolved)->pack_qty;
    }
    c.out << j.dump() << "\n";
  } else {
    if (!d.symbology.empty()) {
      auto name = barcode::symbology_name(d.symbology);
      print_row(c.out, "symbology",
                d.symbology + (name.empty() ? "" : " (" + std::string(name) + ")"));
    }
    print_row(c.out, "format", d.format);
    for (const auto& f : d.fields) {
      std::ostringstream label;
      label << "(" << f.ai << ") " << f.title;
      c.out << "  " << std::left << std::setw(30) << label.str() << f.value
            << (f.text != f.value ? " = " + f.text : "") << "\n";
    }
    if (d.kind == barcode::Kind::kInternal) print_row(c.out, "code", d.data);
    if (d.gtin) print_row(c.out, "gtin", *d.gtin);
    if (d.content_gtin) print_row(c.out, "contains", "GTIN " + *d.content_gtin);
    if (d.add_on) print_row(c.out, "add-on", *d.add_on);
    if (resolved && *resolved) {
      print_row(c.out, "sku", (*resolved)->sku);
      const auto units = (*resolved)->pack_qty;
      print_row(c.out, "quantity",
                std::to_string(units) + (units == 1 ? " unit" : " units") + " per scan");
    }
  }
  if (resolved && !*resolved) {
    c.err << "depot-agent decode: rejected: " << resolved->error().message << "\n";
    return kBadInput;
  }
  return kOk;
}

int cmd_control_sheet(const Args& a, Context& c) {
  auto out = a.get("--out");
  if (!out || out->empty()) {
    c.err << "depot-agent control-sheet: --out FILE.svg is required\n";
    return kBadInput;
  }
  const auto codes = standard_control_codes();
  auto svg = control_sheet_svg(codes, "depot-agent control codes");
  if (!svg) {
    c.err << "depot-agent control-sheet: " << svg.error().message << "\n";
    return kFailure;
  }
  std::ofstream f(*out, std::ios::binary | std::ios::trunc);
  if (f) f << *svg;
  if (f) f.close();
  if (!f) {
    c.err << "depot-agent control-sheet: cannot write " << *out << ": " << std::strerror(errno)
          << "\n";
    return kFailure;
  }
  c.out << "wrote " << codes.size() << " control codes to " << *out << " (print at 100% scale)\n";
  return kOk;
}

}  // namespace

int run_cli(int argc, char** argv, std::ostream& out, std::ostream& err) {
  if (argc < 2) {
    err << kUsage << "\ncold chain (docs/coldchain.md):\n" << kColdChainUsage << kReportUsage
        << "\naccounts (docs/operations.md):\n" << kUsersUsage;
    return kBadInput;
  }
  std::string_view cmd = argv[1];
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    out << kUsage << "\ncold chain (docs/coldchain.md):\n" << kColdChainUsage << kReportUsage
        << "\naccounts (docs/operations.md):\n" << kUsersUsage;
    return kOk;
  }
  if (cmd == "version" || cmd == "--version") {
    out << "depot-agent " DEPOT_VERSION "\n";
    return kOk;
  }

  static const std::vector<CliCommand> commands = {
      {"run", {kConfigOption}, [](const Args& a, Context& cx) {
         // What the dynamic loader touched (the libraries' symbol tables: about 7 MB)
         // leaves the resident set before the config's parse makes the start-up peak.
         give_back_file_pages("loading the libraries");
         auto cfg = cli_load_config(a, cx, /*fingerprint=*/true);
         if (!cfg) return kBadInput;
         if (auto creds = check_credentials(*cfg); !creds.empty()) {
           for (const auto& e : creds) cx.err << "depot-agent: cannot start: " << e << "\n";
           return kBadInput;
         }
         return run_daemon(std::move(*cfg));
       }},
      {"check", {kConfigOption, {"--syntax", false, ""}}, cmd_check},
      {"stock", {kConfigOption, {"--sku", true, ""}, {"--lots", false, ""}, {"--json", false, ""}},
       cmd_stock},
      {"scan",
       {kConfigOption, {"--kind", true, ""}, {"--code", true, ""}, {"--qty", true, ""},
        {"--lot", true, ""}, {"--expiry", true, ""}, {"--order", true, ""}, {"--id", true, ""},
        {"--json", false, ""}, kSignUser,
        kSignPasswordFile, {"--who", true, ""}},
       cmd_scan},
      {"movements",
       {kConfigOption, {"--sku", true, ""}, {"--since", true, ""}, {"--limit", true, ""},
        {"--json", false, ""}},
       cmd_movements},
      {"rejects",
       {kConfigOption, {"--since", true, ""}, {"--limit", true, ""}, {"--json", false, ""}},
       cmd_rejects},
      {"orders",
       {kConfigOption, {"--order", true, ""}, {"--sku", true, ""}, {"--all", false, ""},
        {"--limit", true, ""}, {"--json", false, ""}},
       cmd_orders},
      {"decode", {kConfigOption, {"--json", false, ""}}, cmd_decode, 1},
      {"control-sheet", {{"--out", true, ""}}, cmd_control_sheet},
  };
  for (const auto* table : {&commands, &replenish_commands(), &sensors_commands(),
                             &coldchain_commands(), &report_commands(), &users_commands()})
    if (auto code = run_command(*table, argc, argv, out, err)) return *code;
  err << "depot-agent: unknown command \"" << printable(cmd, 80) << "\"\n\n" << kUsage;
  return kBadInput;
}

}  // namespace depot::app
