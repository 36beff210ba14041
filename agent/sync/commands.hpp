// Cloud commands: what arrives on depot/v1/{site}/{gateway}/cmd/{name}, how it is checked,
// and how it is applied. A command is `{"id": "...", "args": {...}}`; with a shared secret
// configured it must come signed, as `{"signed": "<the command's JSON text>", "hmac": "<hex
// HMAC-SHA256 of the canonical signing text>"}` (signing_text; docs/protocol.md), which binds
// site, gateway, name, id, issued_at and expires_at. The reply is
// `{"id", "ok", "error", "result"?, "duplicate"?}`.
//
// `parse_command` is pure: it authenticates and validates (names, types, ranges) before
// anything changes. `CommandDesk` applies a valid command to the database: the effect, the
// command's id and reply in `commands`, and an `audit` outbox record; a (name, id) seen
// before is not applied again (its stored reply is sent, marked duplicate), and an id seen
// under another name is refused.
// Thread-safety: CommandDesk lives on the daemon's loop thread, like the Database it uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "core/catalog.hpp"
#include "core/json_parse.hpp"
#include "core/replenish/campaign.hpp"
#include "core/replenish/config.hpp"
#include "store/database.hpp"
#include "store/ledger.hpp"
#include "store/orders_store.hpp"

namespace depot::sync {

// stock.count {"sku", "counted" >= 0, "lot"?}: a count movement through the ledger.
struct StockCount {
  std::string sku;
  std::int64_t counted = 0;
  std::optional<std::string> lot;
};
// snapshot.request {}: every SKU's stock as records on the `stock` stream.
struct SnapshotRequest {};
// config.get {}: the running configuration, without secrets, in the reply.
struct ConfigGet {};
// catalog.upsert {a catalog entry, as in the config's catalog[]}.
struct CatalogUpsert {
  CatalogItem item;
};
// catalog.remove {"sku"}: the SKU becomes inactive (never deleted: movements refer to it).
struct CatalogRemove {
  std::string sku;
};
// hold.release / hold.writeoff {"hold" >= 1, "who", "why", "qty"?}: ends a quality hold
// (all that remains, or qty) through a release or writeoff movement, with an audit entry.
struct HoldEndCommand {
  bool writeoff = false;
  std::int64_t hold = 0;
  std::optional<std::int64_t> qty;
  std::string who, why;
};
// alarm.ack {"zone", "who", "comment"}: queues an acknowledgement request for the zone's
// alarms; the daemon's cold chain applies it at its next tick (docs/coldchain.md).
struct AlarmAck {
  std::string zone, who, comment;
  std::string root_cause;  // optional: root cause / corrective action
};
// reorder.ack {"proposal_id", "order_number", "quantity"?, "eta"?}: proposed -> acknowledged
// (docs/replenishment.md); quantity defaults to the proposed one, eta (RFC 3339 or a date) to
// the proposal's expected arrival.
struct ReorderAck {
  std::string proposal_id, order_number;
  std::string who;  // the buyer deciding, as the cloud desk signed in (audited as `who`)
  std::optional<std::int64_t> quantity;
  std::optional<std::int64_t> eta_ms;
};
// reorder.cancel {"proposal_id", "who", "reason"}.
struct ReorderCancel {
  std::string proposal_id, reason;
  std::string who;  // the buyer deciding
};
// campaign.set {"name", "skus"?, "policy"?, "factor", "start", "end"}: creates or replaces a
// cloud campaign (a config campaign of the same name is overridden while it exists).
struct CampaignSet {
  replenish::Campaign campaign;
};
// campaign.clear {"name"}: removes a cloud campaign.
struct CampaignClear {
  std::string name;
};
// stream.replay {"stream", "from_seq" >= 1, "to_seq"?}: resends the records of one stream in
// [from_seq, to_seq] that are still kept (delivered records stay mqtt.keep_delivered_h hours),
// and says which are not. to_seq defaults to the last delivered seq; at most kMaxReplay.
struct StreamReplay {
  std::string stream;
  std::int64_t from_seq = 1;
  std::optional<std::int64_t> to_seq;
};
inline constexpr std::int64_t kMaxReplay = 10000;
// ...and at most this many payload bytes (the range is cut short: `more_from` in the reply).
inline constexpr std::size_t kMaxReplayBytes = 4 * 1024 * 1024;
// order.reserve {"order_id", "channel"?, "lines": [{"sku", "qty" >= 1}, ...]}: reserves each
// line from available stock, backordering what is not available (docs/replenishment.md,
// "Orders and reservations"). A line sent again with the same quantity is unchanged.
struct OrderReserve {
  store::OrderRequest order;
};
// order.release {"order_id"} (the order is cancelled) / order.ship {"order_id"} (it left):
// closes the order's open lines; what they still reserve becomes available again.
struct OrderClose {
  std::string order_id;
  bool shipped = false;
};
// source.stock {"source", "stock": [{"sku", "qty" >= 0}, ...]}: what a transfer source (the
// parent or central warehouse) can spare now, per SKU; replaces what it said before for those
// SKUs.
struct SourceStockSet {
  std::string source;
  std::vector<std::pair<std::string, std::int64_t>> stock;
};
inline constexpr std::size_t kMaxSourceStockLines = 1000;
using CommandAction = std::variant<StockCount, SnapshotRequest, ConfigGet, CatalogUpsert,
                                   CatalogRemove, HoldEndCommand, AlarmAck, ReorderAck,
                                   ReorderCancel, CampaignSet, CampaignClear, StreamReplay,
                                   OrderReserve, OrderClose, SourceStockSet>;

struct Command {
  std::string id;
  std::string name;
  nlohmann::json args;
  CommandAction action;
};

struct ParsedCommand {
  std::string id;                  // "" when the payload had no id; printable when invalid
  std::optional<Command> command;  // set when valid
  std::string error;               // why not, otherwise
  // Signed and its HMAC holds (with a valid `id`), whatever else is wrong with it: it was
  // sent by whoever holds the secret, and is answered once per (name, id).
  bool authentic = false;
};

// Bounds on a command's text (the wrapper and the signed text alike) and its strings.
inline constexpr std::size_t kMaxCommandBytes = 256 * 1024;
// The longest a signed command may be valid: expires_at - issued_at.
inline constexpr std::int64_t kMaxSignedLifetimeMs = 24LL * 3600 * 1000;
// A command's args (or result) larger than this go into its audit record as
// {"elided":true,"bytes","sha256"} (the whole of them stays in the commands table).
inline constexpr std::size_t kMaxAuditedBytes = 16 * 1024;
// A reply's error text is cut beyond this (docs/protocol.md).
inline constexpr std::size_t kMaxErrorBytes = 8 * 1024;
inline constexpr int kMaxCommandDepth = 16;
inline constexpr std::size_t kMaxWhoBytes = kMaxSignerBytes;    // as the CLI's --who
inline constexpr std::size_t kMaxTextBytes = kMaxCommentBytes;  // why, comment, reason
inline constexpr std::size_t kMaxLotBytes = 20;     // GS1 AI (10)

// What a command is checked against besides its own text.
struct CommandCheck {
  std::string_view secret;            // "" = commands need not be signed
  std::string_view site, gateway;     // bound by the signature
  std::int64_t now_ms = 0;            // unix ms: expires_at and issued_at are checked against it
  std::int64_t max_skew_ms = 60'000;  // how far in the future issued_at may be
};

// Authenticates (when `check.secret` is not empty) and validates one command. Pure: the
// clock is `check.now_ms`. Texts are parsed with parse_json (kMaxCommandBytes, depth
// kMaxCommandDepth).
ParsedCommand parse_command(std::string_view name, std::string_view payload,
                            const CommandCheck& check);
// The same with the system clock and no site or gateway (tests, tools).
ParsedCommand parse_command(std::string_view name, std::string_view payload,
                            std::string_view hmac_secret);

// The canonical text a signed command's HMAC is computed over (docs/protocol.md):
//   "depot-command-v1\n{site}\n{gateway}\n{name}\n{id}\n{issued_at}\n{expires_at}\n{signed}"
// where {signed} is the "signed" string exactly as sent.
std::string signing_text(std::string_view site, std::string_view gateway, std::string_view name,
                         std::string_view id, std::string_view issued_at,
                         std::string_view expires_at, std::string_view signed_text);

// Empty when an MQTT 5 response topic may be used for a reply, else why not: a wildcard, not
// UTF-8, or one of the gateway's own topics under `prefix` other than cmd/{name}/reply.
std::string response_topic_problem(std::string_view prefix, std::string_view topic);

// HMAC-SHA256 of `data` under `key`, as 64 lowercase hex digits.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// {"id", "ok", "error", "result"?}: `id` null when empty, `error` null when ok.
nlohmann::json make_reply(std::string_view id, bool ok, std::string_view error,
                          const nlohmann::json& result = nullptr);

struct DeskHooks {
  std::function<std::string()> wall_now;  // RFC 3339 UTC
  std::function<std::int64_t()> mono_now_ns;
  std::function<std::string()> new_id;
  // E.g. commit the scans gathered so far; an Error refuses the command (it would come
  // before scans received earlier).
  std::function<Status()> before_stock_change;
  std::function<void()> catalog_changed;      // e.g. reload the in-memory catalog
  std::function<void()> replenish_changed;    // a proposal or campaign changed (replenishment)
  // An order.* command changed reservations (and, for new lines, order intake).
  std::function<void(const orders::Change&)> orders_changed;
  nlohmann::json config_summary;              // what config.get answers
  std::vector<std::string> zones;             // configured cold-chain zones (alarm.ack)
  std::vector<std::string> policies;          // replenishment profiles (catalog.upsert policy)
  std::vector<std::string> transfer_sources;  // configured sources of kind transfer
  std::string site, gateway;                  // bound by a signed command's HMAC
  tz::Zone site_zone;                         // campaign.set dates (site_timezone)
  std::function<std::size_t()> catalog_skus;  // config.get's catalog_skus, when set
  // Publishes the kept records of `stream` in [from, to] again (stream.replay); how many.
  std::function<Expected<std::int64_t>(const std::string& stream, std::int64_t from,
                                       std::int64_t to)>
      replay;
};

// Fills `h.policies` and `h.transfer_sources` from the running replenishment settings.
void set_replenish_names(DeskHooks& h, const replenish::Settings& s);

class CommandDesk {
 public:
  CommandDesk(store::Database& db, store::Ledger& ledger, std::string hmac_secret, DeskHooks hooks);

  // A reload changed the running config: catalog.upsert and source.stock check against the
  // new profiles and sources; config.get answers `summary` (config_summary).
  void reconfigured(const replenish::Settings& s, nlohmann::json summary) {
    set_replenish_names(hooks_, s);
    hooks_.config_summary = std::move(summary);
  }

  // Handles one command message; returns the reply. Never throws. Nothing changes unless
  // the reply says ok (and is not a duplicate).
  nlohmann::json handle(std::string_view name, std::string_view payload);
  // The reply refusing a command for `why` (found outside the payload, e.g. its response
  // topic), echoing the payload's id. Nothing changes.
  nlohmann::json refuse(std::string_view name, std::string_view payload, std::string_view why);

 private:
  Expected<nlohmann::json> apply(const Command& c);
  Expected<nlohmann::json> stock_count(const Command& c, const StockCount& a);
  Expected<nlohmann::json> snapshot(const Command& c);
  Expected<nlohmann::json> config_get(const Command& c);
  Expected<nlohmann::json> catalog_upsert(const Command& c, const CatalogUpsert& a);
  Expected<nlohmann::json> catalog_remove(const Command& c, const CatalogRemove& a);
  Expected<nlohmann::json> hold_end(const Command& c, const HoldEndCommand& a);
  Expected<nlohmann::json> alarm_ack(const Command& c, const AlarmAck& a);
  Expected<nlohmann::json> replenish_command(const Command& c);
  Expected<nlohmann::json> stream_replay(const Command& c, const StreamReplay& a);
  Expected<nlohmann::json> order_command(const Command& c);
  Expected<nlohmann::json> source_stock(const Command& c, const SourceStockSet& a);
  // Inside an open transaction: the command row and its audit record.
  Status record(const Command& c, const nlohmann::json& reply);

  store::Database& db_;
  store::Ledger& ledger_;
  std::string secret_;
  DeskHooks hooks_;
};

}  // namespace depot::sync
