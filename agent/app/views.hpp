// The read side shared by the CLI's `--json` and the console's JSON API (docs/cli.md,
// docs/api.md): one function per view writes the exact text both doors give, so the two can
// never drift. The option parsers (`--since`, `--limit`) are shared too and name the rule a
// value broke. Each view reads with bounded, indexed statements when given a limit; the API
// always gives one (kMaxApiRows at most), the CLI none (all rows).
// Thread-safety: the caller's thread; `db` is used for the call only.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "core/error.hpp"
#include "store/database.hpp"

namespace depot::app::views {

// The most rows one API page returns, and what a page holds when no limit is asked.
inline constexpr std::int64_t kMaxApiRows = 1000;
inline constexpr std::int64_t kDefaultApiRows = 100;

// A value a view refuses: which option or parameter, the value as given, and the rule.
struct Problem {
  std::string field, value, rule;
};

// "90s", "15m", "2h", "3d" before `now_ms`, an RFC 3339 time or a date -> stored RFC 3339 text.
std::optional<std::string> parse_since(std::string_view text, std::int64_t now_ms);
inline constexpr const char* kSinceRule =
    "must be an RFC 3339 time (2026-11-23T14:00:00Z), a date (2026-11-23) or an age (90s, 15m, "
    "2h, 3d; at most 9 digits)";
// A positive whole number.
std::optional<std::int64_t> parse_limit(std::string_view text);
inline constexpr const char* kLimitRule = "must be a whole number from 1 to 9223372036854775807";

struct StockQuery {
  std::optional<std::string> sku;
  std::optional<std::string> after;  // SKUs after this one (the next page)
  std::int64_t limit = 0;            // 0 = all
};
// `stock --json`: one row per SKU with its replenishment figures (nulls when they cannot be
// computed; the reason goes to `err`). An unknown `sku` is a kBadInput Error.
Status write_stock(std::ostream& out, store::Database& db, const Config& cfg, const StockQuery& q,
                   std::ostream& err);

// `stock --lots`: each SKU's lots (in picking order, expired ones last) and, for a SKU with
// lots, what is outside every lot (`lot` null). `available`: free units of a lot that is not
// expired; `short_dated`: within lots.short_dated_days of its expiry, with free stock.
struct LotLine {
  std::string sku;
  std::optional<std::string> lot, expiry;
  std::int64_t on_hand = 0, held = 0, available = 0;
  bool expired = false;
  std::optional<std::int64_t> days_left;
  bool short_dated = false;
};
Expected<std::vector<LotLine>> lot_lines(store::Database& db, const Config& cfg,
                                         const std::optional<std::string>& sku);
Status write_lots(std::ostream& out, store::Database& db, const Config& cfg,
                  const std::optional<std::string>& sku);

struct MovementsQuery {
  std::optional<std::string> sku, since;
  std::int64_t limit = 0;  // the newest this many, in seq order; 0 = all
};
Status write_movements(std::ostream& out, store::Database& db, const MovementsQuery& q);

struct RejectsQuery {
  std::optional<std::string> since;
  std::int64_t limit = 0;  // the first this many from `since`; 0 = all
};
Status write_rejects(std::ostream& out, store::Database& db, const RejectsQuery& q);

struct ReordersQuery {
  bool open = false;
  std::optional<std::string> sku;
  std::int64_t limit = 0;  // the newest this many; 0 = all
};
Status write_reorders(std::ostream& out, store::Database& db, const ReordersQuery& q);

// `zones --json`: every configured zone (bounded by the config), as a list.
Expected<nlohmann::json> zones_json(store::Database& db, const Config& cfg, std::int64_t now_ms);
Status write_zones(std::ostream& out, store::Database& db, const Config& cfg, std::int64_t now_ms);

struct AlarmsQuery {
  bool open = false;
  std::int64_t limit = 0;  // closed alarms: the newest this many; 0 = all
};
// Open alarms (from the zones' saved state), then closed ones unless `open`, each with what
// its outputs did, then the outputs' own failures.
Expected<nlohmann::json> alarms_json(store::Database& db, const AlarmsQuery& q);
Status write_alarms(std::ostream& out, store::Database& db, const AlarmsQuery& q);

struct HoldsQuery {
  bool open = false;
  std::int64_t limit = 0;  // the newest this many, in id order; 0 = all
};
Status write_holds(std::ostream& out, store::Database& db, const HoldsQuery& q);

struct AuditQuery {
  std::optional<std::string> since;
  std::int64_t limit = 0;  // the newest this many, in seq order; 0 = all
};
Status write_audit(std::ostream& out, store::Database& db, const AuditQuery& q);

}  // namespace depot::app::views
