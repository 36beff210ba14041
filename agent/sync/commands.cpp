#include "sync/commands.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <limits>
#include <set>

#include "base/log.hpp"
#include "core/config.hpp"
#include "core/json_fields.hpp"
#include "core/json_parse.hpp"
#include "core/sha256.hpp"
#include "core/time.hpp"
#include "store/audit.hpp"
#include "store/coldchain_store.hpp"
#include "store/outbox.hpp"
#include "store/replenish_store.hpp"

namespace depot::sync {
namespace {

using nlohmann::json;

bool printable_id(std::string_view id) {
  return !id.empty() && id.size() <= 128 &&
         std::all_of(id.begin(), id.end(), [](char ch) { return ch > ' ' && ch <= '~'; });
}

// An RFC 3339 time (or a date) argument, in unix ms.
std::optional<std::int64_t> time_arg(ObjectReader& r, std::string_view key, bool required) {
  auto s = r.string(key, required);
  if (!s) return std::nullopt;
  auto ms = timefmt::parse_rfc3339_ms(*s);
  if (!ms)
    r.problems().add(r.path_of(key),
                     describe(*s) + " must be an RFC 3339 time (2026-11-11T20:00:00+08:00) or a date");
  return ms;
}

// The first 20 problems, then how many more: one per bad line or key of a large command made
// a reply over the broker's packet limit, never sent (the cloud resent it forever).
std::string join(const std::vector<std::string>& items) {
  constexpr std::size_t kShown = 20;
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < kShown; ++i)
    out += (out.empty() ? "" : "; ") + items[i];
  if (items.size() > kShown)
    out += "; and " + std::to_string(items.size() - kShown) + " more problem(s)";
  return out;
}

// --- Each command's args (docs/protocol.md "Commands"), one parser per name ---

CommandAction parse_stock_count(const json& args, Problems& p) {
  ObjectReader r(args, "args", p);
  StockCount a;
  if (auto s = r.identifier("sku", true)) a.sku = *s;
  if (auto n = r.integer("counted", true, 0, 1000000000)) a.counted = *n;
  if (auto lot = r.text("lot", false, kMaxLotBytes)) a.lot = *lot;
  return a;
}

template <class Action>
CommandAction parse_no_args(const json& args, Problems& p) {
  ObjectReader r(args, "args", p);
  return Action{};
}

CommandAction parse_catalog_upsert(const json& args, Problems& p) {
  auto item = read_catalog_item(args, "args", p);
  // What the config's own checks refuse, refused here too rather than dropped or kept silently.
  if (args.is_object() && args.contains("max_qty_per_scan"))
    p.add("args.max_qty_per_scan",
          "is read from the config file only (docs/protocol.md): not set by catalog.upsert");
  if (item && item->pin_demand && !item->daily_demand)
    p.add("args.pin_demand", "true needs daily_demand (the figure to pin)");
  return CatalogUpsert{item.value_or(CatalogItem{})};
}

CommandAction parse_catalog_remove(const json& args, Problems& p) {
  ObjectReader r(args, "args", p);
  CatalogRemove a;
  if (auto s = r.identifier("sku", true)) a.sku = *s;
  return a;
}

template <bool kWriteoff>
CommandAction parse_hold_end(const json& args, Problems& p) {
  ObjectReader r(args, "args", p);
  HoldEndCommand a;
  a.writeoff = kWriteoff;
  if (auto n = r.integer("hold", true, 1, std::numeric_limits<std::int64_t>::max())) a.hold = *n;
  if (auto n = r.integer("qty", false, 1, 1000000000)) a.qty = *n;
  if (auto s = r.text("who", true, kMaxWhoBytes)) a.who = *s;   // never empty
  if (auto s = r.text("why", true, kMaxTextBytes)) a.why = *s;  // never empty
  return a;
}

CommandAction parse_alarm_ack(const json& args, Problems& p) {
  ObjectReader r(args, "args", p);
  AlarmAck a;
  if (auto s = r.identifier("zone", true)) a.zone = *s;
  if (auto s = r.text("who", true, kMaxWhoBytes)) a.who = *s;           // never empty
  if (auto s = r.text("comment", true, kMaxTextBytes)) a.comment = *s;  // never empty
  if (auto s = r.text("root_cause", false, kMaxTextBytes)) a.root_cause = *s;
  return a;
}

CommandAction parse_reorder_ack(const json& args, Problems& p) {
  ObjectReader r(args, "args", p);
  ReorderAck a;
  if (auto s = r.identifier("proposal_id", true)) a.proposal_id = *s;
  if (auto s = r.text("order_number", true, 1024)) {
    if (s->size() > 64) p.add("args.order_number", describe(*s) + " must be 1-64 characters");
    a.order_number = *s;
  }
  a.quantity = r.integer("quantity", false, 1, 1000000000);
  a.eta_ms = time_arg(r, "eta", false);
  if (auto s = r.text("who", true, kMaxWhoBytes)) a.who = *s;  // never empty
  return a;
}

CommandAction parse_reorder_cancel(const json& args, Problems& p) {
  ObjectReader r(args, "args", p);
  ReorderCancel a;
  if (auto s = r.identifier("proposal_id", true)) a.proposal_id = *s;
  if (auto s = r.text("reason", true, kMaxTextBytes)) a.reason = *s;  // never empty
  if (auto s = r.text("who", true, kMaxWhoBytes)) a.who = *s;         // never empty
  return a;
}

CommandAction parse_campaign_set(const json& args, Problems& p) {
  CampaignSet a;
  {
    ObjectReader r(args, "args", p);
    auto& k = a.campaign;
    if (auto s = r.identifier("name", true)) k.name = *s;
    if (const auto* arr = r.array("skus", false)) {
      for (std::size_t i = 0; i < arr->size(); ++i) {
        const auto& v = (*arr)[i];
        if (!v.is_string() || v.get<std::string>().empty())
          p.add("args.skus[" + std::to_string(i) + "]", describe(v) + " must be a SKU");
        else
          k.skus.push_back(v.get<std::string>());
      }
    }
    if (auto s = r.string("policy", false)) k.policy = *s;
    if (auto f = r.number("factor", true)) {
      if (*f < 1 || *f > 1000)
        p.add("args.factor",
              describe(*f) + " must be between 1 and 1000 (a factor of 4 is +300 %)");
      k.factor = *f;
    }
    std::optional<replenish::CampaignTime> start, end;
    for (auto [key, slot] : {std::pair{"start", &start}, std::pair{"end", &end}})
      if (auto text = r.string(key, true)) {
        *slot = replenish::campaign_time(*text, slot == &end);
        if (!*slot)
          p.add(std::string("args.") + key,
                describe(*text) + " must be an RFC 3339 time (2026-11-11T20:00:00+08:00) or a "
                                  "site-local date (2026-11-11)");
      }
    if (start) k.start_ms = start->ms, k.start_day = start->day;
    if (end) k.end_ms = end->ms, k.end_day = end->day;
    if (start && end && end->ms <= start->ms) p.add("args.end", "must be after args.start");
  }
  if (a.campaign.skus.empty() && a.campaign.policy.empty() && p.empty())
    p.add("args", "needs skus or policy to say which SKUs the campaign lifts");
  return a;
}

CommandAction parse_campaign_clear(const json& args, Problems& p) {
  ObjectReader r(args, "args", p);
  CampaignClear a;
  if (auto s = r.identifier("name", true)) a.name = *s;
  return a;
}

CommandAction parse_stream_replay(const json& args, Problems& p) {
  ObjectReader r(args, "args", p);
  StreamReplay a;
  if (auto s = r.one_of("stream", true,
                        {"movements", "telemetry", "alarms", "reorders", "stock", "rejects",
                         "audit", "orders"}))
    a.stream = *s;
  if (auto n = r.integer("from_seq", true, 1, std::numeric_limits<std::int64_t>::max()))
    a.from_seq = *n;
  a.to_seq = r.integer("to_seq", false, 1, std::numeric_limits<std::int64_t>::max());
  if (a.to_seq && *a.to_seq < a.from_seq)
    p.add("args.to_seq", std::to_string(*a.to_seq) + " must be at least from_seq");
  return a;
}

// An order id (core/orders order_id_problem), required.
std::string order_id_arg(ObjectReader& r, Problems& p) {
  auto s = r.string("order_id", true);
  if (!s) return {};
  if (auto why = orders::order_id_problem(*s); !why.empty())
    p.add("args.order_id", describe(*s) + " " + why);
  return *s;
}

CommandAction parse_order_reserve(const json& args, Problems& p) {
  ObjectReader r(args, "args", p);
  OrderReserve a;
  auto& o = a.order;
  o.order_id = order_id_arg(r, p);
  o.channel = r.text("channel", false, orders::kMaxChannelBytes).value_or("");
  if (const auto* arr = r.array("lines", true)) {
    if (arr->empty()) p.add("args.lines", "must list at least one line");
    if (arr->size() > orders::kMaxLines)
      p.add("args.lines", std::to_string(arr->size()) + " lines: at most " +
                              std::to_string(orders::kMaxLines) + " per order");
    std::set<std::string> skus;
    for (std::size_t i = 0; i < arr->size() && i < orders::kMaxLines; ++i) {
      const std::string where = "args.lines[" + std::to_string(i) + "]";
      ObjectReader line((*arr)[i], where, p);
      store::OrderLineRequest l;
      if (auto s = line.identifier("sku", true)) {
        l.sku = *s;
        if (!skus.insert(*s).second)
          p.add(where + ".sku", "\"" + *s + "\" is listed twice in this order (one line per SKU)");
      }
      if (auto n = line.integer("qty", true, 1, orders::kMaxLineQty)) l.qty = *n;
      line.finish();
      o.lines.push_back(std::move(l));
    }
  }
  return a;
}

template <bool kShipped>
CommandAction parse_order_close(const json& args, Problems& p) {
  ObjectReader r(args, "args", p);
  OrderClose a;
  a.shipped = kShipped;
  a.order_id = order_id_arg(r, p);
  return a;
}

CommandAction parse_source_stock(const json& args, Problems& p) {
  ObjectReader r(args, "args", p);
  SourceStockSet a;
  if (auto s = r.identifier("source", true)) a.source = *s;
  if (const auto* arr = r.array("stock", true)) {
    if (arr->empty()) p.add("args.stock", "must list at least one SKU");
    if (arr->size() > kMaxSourceStockLines)
      p.add("args.stock", std::to_string(arr->size()) + " lines: at most " +
                              std::to_string(kMaxSourceStockLines));
    std::set<std::string> skus;
    for (std::size_t i = 0; i < arr->size() && i < kMaxSourceStockLines; ++i) {
      const std::string where = "args.stock[" + std::to_string(i) + "]";
      ObjectReader line((*arr)[i], where, p);
      auto sku = line.identifier("sku", true);
      auto qty = line.integer("qty", true, 0, 1000000000);
      line.finish();
      if (sku && !skus.insert(*sku).second)
        p.add(where + ".sku", "\"" + *sku + "\" is listed twice");
      if (sku && qty) a.stock.emplace_back(*sku, *qty);
    }
  }
  return a;
}

// The commands this agent knows: a name not here is refused (never answered as another).
struct CommandSpec {
  std::string_view name;
  CommandAction (*parse)(const json& args, Problems& p);
};
constexpr CommandSpec kCommands[] = {
    {"stock.count", parse_stock_count},
    {"snapshot.request", parse_no_args<SnapshotRequest>},
    {"config.get", parse_no_args<ConfigGet>},
    {"catalog.upsert", parse_catalog_upsert},
    {"catalog.remove", parse_catalog_remove},
    {"hold.release", parse_hold_end<false>},
    {"hold.writeoff", parse_hold_end<true>},
    {"alarm.ack", parse_alarm_ack},
    {"reorder.ack", parse_reorder_ack},
    {"reorder.cancel", parse_reorder_cancel},
    {"campaign.set", parse_campaign_set},
    {"campaign.clear", parse_campaign_clear},
    {"stream.replay", parse_stream_replay},
    {"order.reserve", parse_order_reserve},
    {"order.release", parse_order_close<false>},
    {"order.ship", parse_order_close<true>},
    {"source.stock", parse_source_stock},
};

std::string unknown_command(std::string_view name) {
  std::string known;
  for (const auto& spec : kCommands) known += (known.empty() ? "" : ", ") + std::string(spec.name);
  return "unknown command \"" + printable(name, 80) + "\" (known: " + known + ")";
}

bool hex_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  std::string lower(b);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return constant_time_equal(a, lower);
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  return to_hex(hmac_sha256(key, data));
}

json make_reply(std::string_view id, bool ok, std::string_view error, const json& result) {
  // Every reply fits a message: an error is cut at kMaxErrorBytes (on a character's boundary).
  std::string cut;
  if (error.size() > kMaxErrorBytes) {
    std::size_t end = kMaxErrorBytes;
    while (end > 0 && (static_cast<unsigned char>(error[end]) & 0xC0) == 0x80) --end;
    cut = std::string(error.substr(0, end)) + "... (" + std::to_string(error.size()) +
          " bytes in all)";
    error = cut;
  }
  json r{{"id", id.empty() ? json() : json(id)}, {"ok", ok}, {"error", ok ? json() : json(error)}};
  if (!result.is_null()) r["result"] = result;
  return r;
}

std::string signing_text(std::string_view site, std::string_view gateway, std::string_view name,
                         std::string_view id, std::string_view issued_at,
                         std::string_view expires_at, std::string_view signed_text) {
  std::string out = "depot-command-v1\n";
  for (auto part : {site, gateway, name, id, issued_at, expires_at}) {
    out += part;
    out += '\n';
  }
  out += signed_text;
  return out;
}

std::string response_topic_problem(std::string_view prefix, std::string_view topic) {
  if (topic.empty()) return "the response topic is empty";
  if (topic.size() > 1024) return "the response topic is longer than 1024 bytes";
  if (!valid_utf8(topic) || topic.find('\0') != std::string_view::npos)
    return "the response topic \"" + printable(topic, 80) + "\" is not valid UTF-8";
  if (topic.find_first_of("+#") != std::string_view::npos)
    return "the response topic \"" + printable(topic, 80) +
           "\" contains a wildcard (+ or #): a reply cannot be published there";
  if (topic.front() == '$')
    return "the response topic \"" + printable(topic, 80) +
           "\" starts with $: such topics are the broker's ($SYS, $share)";
  // Compared with '.' read as '/': RabbitMQ's MQTT plugin maps one to the other, so there
  // "depot.v1.s2.gw-2.cmd.stock.count" is another gateway's command topic.
  std::string dotted_as_slash(topic), own(prefix);
  std::replace(dotted_as_slash.begin(), dotted_as_slash.end(), '.', '/');
  std::replace(own.begin(), own.end(), '.', '/');
  const std::string_view t = dotted_as_slash;
  prefix = own;
  // The protocol's root ("depot/v1/"): another gateway's topics are not ours to publish on (a
  // reply on its command topic would reach it as a command).
  const auto root = prefix.substr(0, prefix.find('/', prefix.find('/') + 1) + 1);
  if (t.substr(0, root.size()) == root && t.substr(0, prefix.size()) != prefix)
    return "the response topic \"" + printable(topic, 80) + "\" is under " + std::string(root) +
           " but not this gateway's " + std::string(prefix) + ": another gateway's topic";
  if (t.substr(0, prefix.size()) == prefix) {
    // Under the gateway's own prefix only a reply topic is allowed: status, the streams and
    // the command topics are the gateway's (a reply there would pass for its own record or
    // come back to it as a command).
    auto rest = t.substr(prefix.size());
    const bool reply =
        rest.substr(0, 4) == "cmd/" && rest.size() > 10 && rest.substr(rest.size() - 6) == "/reply";
    if (!reply)
      return "the response topic \"" + printable(topic, 80) +
             "\" is one of this gateway's own topics (only cmd/{name}/reply is allowed there)";
  }
  return {};
}

ParsedCommand parse_command(std::string_view name, std::string_view payload,
                            std::string_view secret) {
  CommandCheck check;
  check.secret = secret;
  check.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  return parse_command(name, payload, check);
}

ParsedCommand parse_command(std::string_view name, std::string_view payload,
                            const CommandCheck& check) {
  ParsedCommand out;
  const JsonLimits limits{kMaxCommandBytes, kMaxCommandDepth};
  // The id as the reply echoes it: the command's own when valid, else a printable rendering
  // (the error says it was invalid), never null when the payload had one.
  auto take_id = [&out](const json& doc) {
    if (!doc.is_object()) return;
    auto it = doc.find("id");
    if (it == doc.end()) return;
    if (it->is_string()) {
      const auto& s = it->get_ref<const std::string&>();
      out.id = printable_id(s) ? s : printable(s, 128);
    } else {
      out.id = printable(describe(*it), 128);
    }
  };
  auto parsed = parse_json(payload, limits);
  if (!is_identifier(name)) {
    if (parsed) take_id(*parsed);  // the reply still names the command it answers
    out.error = "unknown command \"" + printable(name, 80) + "\" (not a command name)";
    return out;
  }
  if (!parsed || !parsed->is_object()) {
    out.error = "the payload is not a JSON object" +
                (parsed ? std::string() : ": " + parsed.error().message);
    // A duplicate key refuses the whole text; its id is still what the reply must echo.
    if (!parsed && parsed.error().message.rfind("duplicate key", 0) == 0) {
      JsonLimits lenient = limits;
      lenient.first_of_duplicates = true;
      if (auto again = parse_json(payload, lenient)) take_id(*again);
    }
    return out;
  }
  json doc = std::move(*parsed);
  const bool is_signed = !check.secret.empty() || doc.contains("hmac") || doc.contains("signed");
  std::string signed_text;
  std::string mac;
  if (is_signed) {
    // The signed form: {"signed": "<command text>", "hmac": "<hex>"}, nothing else.
    Problems wp;
    {
      ObjectReader r(doc, "", wp);
      if (auto s = r.string("signed", true)) signed_text = *s;
      if (auto s = r.string("hmac", true)) mac = *s;
    }
    if (!wp.empty()) {
      take_id(doc);
      out.error = (check.secret.empty() ? std::string("a signed command is ")
                                        : std::string("commands must be signed: ")) +
                  "{\"signed\": \"<command JSON text>\", \"hmac\": \"<HMAC-SHA256 hex>\"} (" +
                  join(wp.items()) + ")";
      return out;
    }
    auto inner = parse_json(signed_text, limits);
    if (!inner || !inner->is_object()) {
      out.error = "\"signed\" is not the text of a JSON object" +
                  (inner ? std::string() : ": " + inner.error().message);
      return out;
    }
    doc = std::move(*inner);
    take_id(doc);
    if (check.secret.empty()) {
      out.error =
          "this gateway has no HMAC secret configured (mqtt.hmac_secret_file): it "
          "cannot check the signature";
      return out;
    }
  }

  Problems p;
  Command c;
  c.name = std::string(name);
  std::string issued_at, expires_at;
  {
    ObjectReader r(doc, "", p);
    if (auto id = r.string("id", true)) {
      if (!printable_id(*id))
        p.add("id", "\"" + printable(*id, 128) +
                        "\" is not a valid id: it must be 1-128 printable ASCII characters "
                        "without spaces");
      else
        c.id = *id;
    }
    take_id(doc);
    const json* args = r.get("args", false);
    c.args = args ? *args : json::object();
    auto issued = r.string("issued_at", is_signed);
    auto expires = r.string("expires_at", is_signed);
    std::optional<std::int64_t> issued_ms, expires_ms;
    if (issued) {
      issued_at = *issued;
      issued_ms = timefmt::parse_rfc3339_ms(*issued);
      if (!issued_ms || issued->find('T') == std::string::npos)
        p.add("issued_at", describe(*issued) + " must be an RFC 3339 time");
    }
    if (expires) {
      expires_at = *expires;
      expires_ms = timefmt::parse_rfc3339_ms(*expires);
      if (!expires_ms || expires->find('T') == std::string::npos)
        p.add("expires_at", describe(*expires) + " must be an RFC 3339 time");
    }
    if (p.empty() && is_signed) {
      // The signature first: nothing about an unauthenticated command's times is told.
      auto text =
          signing_text(check.site, check.gateway, name, c.id, issued_at, expires_at, signed_text);
      if (!hex_equal(hmac_sha256_hex(check.secret, text), mac)) {
        out.error =
            "the HMAC does not match: the command was not signed with this gateway's "
            "secret for this site, gateway, command name, id and times, or was altered";
        return out;
      }
      out.authentic = true;
    }
    const auto now = timefmt::rfc3339_from_unix_ms(check.now_ms);
    if (issued_ms && *issued_ms > check.now_ms + check.max_skew_ms)
      p.add("issued_at",
            describe(issued_at) + " is in the future (the gateway's clock says " + now + ")");
    if (expires_ms && issued_ms && *expires_ms <= *issued_ms)
      p.add("expires_at", describe(expires_at) + " must be after issued_at");
    else if (expires_ms && issued_ms && *expires_ms - *issued_ms > kMaxSignedLifetimeMs)
      // Replays are refused by the commands table; a file moved aside after damage forgets
      // it, so a signature must not stay good for years (0000-01-01 to 9999-12-31 was taken).
      p.add("expires_at", describe(expires_at) + " is more than 24 hours after issued_at " +
                              describe(issued_at) + " (keep lifetimes to minutes)");
    else if (expires_ms && *expires_ms <= check.now_ms)
      p.add("expires_at",
            "the command expired at " + expires_at + " (the gateway's clock says " + now + ")");
    r.finish();
  }
  if (!p.empty()) {
    out.error = join(p.items());
    return out;
  }
  if (!c.args.is_object()) {
    out.error = "args: " + describe(c.args) + " must be an object";
    return out;
  }

  const auto* spec = std::find_if(std::begin(kCommands), std::end(kCommands),
                                  [&](const CommandSpec& s) { return s.name == name; });
  if (spec == std::end(kCommands)) {
    out.error = unknown_command(name);
    return out;
  }
  c.action = spec->parse(c.args, p);
  if (!p.empty()) {
    out.error = join(p.items());
    return out;
  }
  out.command = std::move(c);
  return out;
}

void set_replenish_names(DeskHooks& h, const replenish::Settings& s) {
  h.policies.clear();
  h.transfer_sources.clear();
  for (const auto& pol : s.policies) {
    h.policies.push_back(pol.name);
    for (const auto& sup : pol.suppliers)
      if (sup.kind == replenish::SourceKind::kTransfer &&
          std::find(h.transfer_sources.begin(), h.transfer_sources.end(), sup.id) ==
              h.transfer_sources.end())
        h.transfer_sources.push_back(sup.id);
  }
}

CommandDesk::CommandDesk(store::Database& db, store::Ledger& ledger, std::string hmac_secret,
                         DeskHooks hooks)
    : db_(db), ledger_(ledger), secret_(std::move(hmac_secret)), hooks_(std::move(hooks)) {}

json CommandDesk::handle(std::string_view name, std::string_view payload) {
  std::string known_id;  // for the reply to an internal error (protocol.md: the id is echoed)
  try {
    CommandCheck check;
    check.secret = secret_;
    check.site = hooks_.site;
    check.gateway = hooks_.gateway;
    check.now_ms = timefmt::parse_rfc3339_ms(hooks_.wall_now()).value_or(0);
    auto parsed = parse_command(name, payload, check);
    // A valid command, or a signed one whose signature holds (a resend of an applied command
    // that expired since still gets its stored reply, not "expired"), is answered once.
    if (!parsed.command && !parsed.authentic) return make_reply(parsed.id, false, parsed.error);
    const std::string& id = parsed.command ? parsed.command->id : parsed.id;
    known_id = id;
    auto q = db_.prepare("SELECT reply, name FROM commands WHERE id = ?1");
    if (!q) return make_reply(id, false, "database: " + q.error().message);
    auto seen = (*q)->bind(1, id).step();
    if (!seen) return make_reply(id, false, "database: " + seen.error().message);
    if (*seen) {
      // Once per (name, id): the same id under another name is a different command, refused.
      if (auto first = (*q)->text(1); first != name) {
        (*q)->reset();
        return make_reply(id, false,
                          "id \"" + id + "\" was already used by a \"" + first +
                              "\" command: a new command needs a new id");
      }
      auto stored = json::parse((*q)->text(0), nullptr, false);
      (*q)->reset();
      if (stored.is_discarded()) stored = make_reply(id, true, "");
      stored["duplicate"] = true;
      return stored;
    }
    (*q)->reset();
    if (!parsed.command) return make_reply(parsed.id, false, parsed.error);
    const auto& c = *parsed.command;
    db_.clear_failure();
    auto reply = apply(c);
    if (reply) return *reply;
    auto refused = make_reply(c.id, false, reply.error().message);
    // A signed command that changes state, refused by a rule on its args against the
    // gateway's state (a SKU not active yet, an order not here yet), is kept refused:
    // replayed later, once the state changed, it was applied, though its sender had its
    // refusal (anyone on the broker could replay it until it expired). A resend gets the
    // stored refusal; a retry needs a new id. A transient refusal (the database failing,
    // scans waiting for it) is not kept: the same id may be sent again.
    static constexpr std::string_view kReadOnly[] = {"config.get", "snapshot.request",
                                                     "stream.replay"};
    const bool changes = std::find(std::begin(kReadOnly), std::end(kReadOnly), c.name) ==
                         std::end(kReadOnly);
    if (parsed.authentic && changes && db_.last_failure() == 0 &&
        reply.error().kind != ErrorKind::kBusy && reply.error().message.rfind("args", 0) == 0)
      if (auto st = db_.transaction([&] { return record(c, refused); }); !st)
        log::warning("command " + c.name + " " + c.id +
                     ": its refusal could not be recorded: " + st.error().message);
    return refused;
  } catch (const std::exception& e) {
    return make_reply(known_id, false, std::string("internal error: ") + e.what());
  }
}

json CommandDesk::refuse(std::string_view name, std::string_view payload, std::string_view why) {
  return make_reply(parse_command(name, payload, secret_).id, false, why);
}

namespace {
// What the audit record carries of a command's args or result: the value itself, or, past
// kMaxAuditedBytes, its size and SHA-256 (the commands table keeps the whole of it), so that
// every audit record fits a message the broker accepts and the cloud's chain has no hole.
json audited(const json& v) {
  auto text = v.dump();
  if (text.size() <= kMaxAuditedBytes) return v;
  return json{{"elided", true},
              {"bytes", text.size()},
              {"sha256", to_hex(sha256(text))}};
}
}  // namespace

Status CommandDesk::record(const Command& c, const json& reply) {
  auto ins =
      db_.prepare("INSERT INTO commands(id, name, args, reply, applied_at) VALUES(?1,?2,?3,?4,?5)");
  if (!ins) return ins.error();
  auto now = hooks_.wall_now();
  if (auto st = (*ins)
                    ->bind(1, c.id)
                    .bind(2, c.name)
                    .bind(3, c.args.dump())
                    .bind(4, reply.dump())
                    .bind(5, now)
                    .run();
      !st)
    return st;
  json audit{{"event", "command"},
             {"command", c.name},
             {"command_id", c.id},
             {"args", audited(c.args)},
             {"ok", reply.value("ok", false)}};
  if (reply.contains("result")) audit["result"] = audited(reply["result"]);
  // An audit-trail entry (docs/coldchain.md) whose `audit` record also carries the command's
  // members on top: one record, with its audit_seq and hashes, per applied command.
  store::AuditEntry entry{"cloud", now, "command", "cloud command " + c.name, audit};
  entry.record_fields = std::move(audit);
  entry.record_id = "command:" + c.id;
  if (auto a = store::audit_append(db_, entry); !a) return a.error();
  return {};
}

// Every action has its handler: a CommandAction without one does not compile.
Expected<json> CommandDesk::apply(const Command& c) {
  return std::visit(
      [&](const auto& a) -> Expected<json> {
        using A = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<A, StockCount>) return stock_count(c, a);
        else if constexpr (std::is_same_v<A, SnapshotRequest>) return snapshot(c);
        else if constexpr (std::is_same_v<A, ConfigGet>) return config_get(c);
        else if constexpr (std::is_same_v<A, CatalogUpsert>) return catalog_upsert(c, a);
        else if constexpr (std::is_same_v<A, CatalogRemove>) return catalog_remove(c, a);
        else if constexpr (std::is_same_v<A, HoldEndCommand>) return hold_end(c, a);
        else if constexpr (std::is_same_v<A, AlarmAck>) return alarm_ack(c, a);
        else if constexpr (std::is_same_v<A, StreamReplay>) return stream_replay(c, a);
        else if constexpr (std::is_same_v<A, OrderReserve> || std::is_same_v<A, OrderClose>)
          return order_command(c);
        else if constexpr (std::is_same_v<A, SourceStockSet>) return source_stock(c, a);
        else if constexpr (std::is_same_v<A, ReorderAck> || std::is_same_v<A, ReorderCancel> ||
                           std::is_same_v<A, CampaignSet> || std::is_same_v<A, CampaignClear>)
          return replenish_command(c);
        else static_assert(sizeof(A) == 0, "a command action without a handler");
      },
      c.action);
}

// config.get changes nothing, but is still recorded (an audit trail of who read what).
Expected<json> CommandDesk::config_get(const Command& c) {
  auto summary = hooks_.config_summary;
  if (hooks_.catalog_skus) summary["catalog_skus"] = hooks_.catalog_skus();
  auto reply = make_reply(c.id, true, "", summary);
  if (auto st = db_.transaction([&] { return record(c, reply); }); !st) return st.error();
  return reply;
}

Expected<json> CommandDesk::stock_count(const Command& c, const StockCount& a) {
  auto active = db_.prepare("SELECT active FROM skus WHERE sku = ?1");
  if (!active) return active.error();
  auto found = (*active)->bind(1, a.sku).step();
  if (!found) return found.error();
  bool ok = *found && (*active)->int64(0) != 0;
  (*active)->reset();
  if (!ok) return Error{"args.sku: \"" + a.sku + "\" is not an active SKU of this gateway"};
  if (hooks_.before_stock_change) {
    if (auto st = hooks_.before_stock_change(); !st) return st.error();
    db_.clear_failure();  // a failure committing the scans is not this command's
  }

  // The movement, the command row and its audit record commit together: a reply ok=false
  // leaves the stock as it was (the command row's write failing after the movement's own
  // commit left the count applied, on the movements stream, under a refusal). The movement
  // id comes from the command id, so a replay finds it posted.
  MovementRequest m;
  m.id = "cmd-" + c.id;
  m.sku = a.sku;
  m.kind = MovementKind::kCount;
  m.quantity = a.counted;
  m.source = "cloud";
  m.lot = a.lot;
  m.wall_time = hooks_.wall_now();
  m.mono_ns = hooks_.mono_now_ns();
  return db_.transaction([&](const store::Txn& txn) -> Expected<json> {
    auto posted = ledger_.post(txn, std::span(&m, 1));
    if (!posted) return posted.error();
    const auto& r = (*posted)[0];
    // The ledger's rule, named by the argument it judged (a signed refusal is then kept).
    if (r.outcome == store::PostOutcome::kRejected) return Error{"args.counted: " + r.error};
    json result{{"movement_id", m.id}, {"sku", a.sku}, {"counted", a.counted}};
    if (r.outcome == store::PostOutcome::kPosted) {
      result["variance"] = r.posting.on_hand_delta;
      result["on_hand"] = r.after.on_hand;
    } else if (auto rec = ledger_.find(m.id); rec && *rec) {
      result["variance"] = (*rec)->qty;
      result["on_hand"] = (*rec)->on_hand_after;
    }
    auto reply = make_reply(c.id, true, "", result);
    if (auto st = record(c, reply); !st) return st.error();
    return reply;
  });
}

Expected<json> CommandDesk::snapshot(const Command& c) {
  if (hooks_.before_stock_change) {
    if (auto st = hooks_.before_stock_change(); !st) return st.error();
    db_.clear_failure();  // a failure committing the scans is not this command's
  }
  auto body = [&]() -> Expected<json> {
    auto rows = ledger_.stock(std::nullopt);
    if (!rows) return rows.error();
    auto lots = ledger_.lots(std::nullopt);  // in SKU order, like rows
    if (!lots) return lots.error();
    auto lot = lots->begin();
    // The watermark: in this transaction, the stock includes exactly the movements up to the
    // last movements seq allocated (each movement's record is allocated with it).
    auto mark = db_.prepare("SELECT next_seq - 1 FROM outbox_streams WHERE stream = 'movements'");
    if (!mark) return mark.error();
    auto has_mark = (*mark)->step();
    if (!has_mark) return has_mark.error();
    const std::int64_t movements_seq = *has_mark ? (*mark)->int64(0) : 0;
    (*mark)->reset();
    auto now = hooks_.wall_now();
    std::string snap = "snap-" + c.id;
    std::int64_t first = 0, last = 0, part = 0;
    const auto parts = static_cast<std::int64_t>(rows->size());
    for (const auto& s : *rows) {
      json rec{{"snapshot", snap},
               {"part", ++part},
               {"parts", parts},
               {"sku", s.sku},
               {"on_hand", s.line.on_hand},
               {"held", s.line.held},
               {"reserved", s.line.reserved},
               {"available", s.line.available()},
               {"backordered", s.line.backordered},
               {"expired", s.line.expired},
               {"active", s.active},
               {"movements_seq", movements_seq}};
      for (; lot != lots->end() && lot->sku < s.sku; ++lot) {}
      if (lot != lots->end() && lot->sku == s.sku) {
        auto& out = rec["lots"] = json::array();
        for (; lot != lots->end() && lot->sku == s.sku; ++lot)
          out.push_back({{"lot", lot->lot.lot},
                         {"expiry", lot->lot.expiry ? json(*lot->lot.expiry) : json()},
                         {"on_hand", lot->lot.on_hand},
                         {"held", lot->lot.held},
                         {"expired", lot->expired}});
      }
      auto seq = store::outbox_append(db_, "stock", snap + ":" + s.sku, now, std::move(rec));
      if (!seq) return seq.error();
      if (!first) first = *seq;
      last = *seq;
    }
    json result{{"snapshot", snap}, {"skus", parts}, {"movements_seq", movements_seq}};
    if (first) result["first_seq"] = first, result["last_seq"] = last;
    auto reply = make_reply(c.id, true, "", result);
    if (auto st = record(c, reply); !st) return st.error();
    return reply;
  };
  auto reply = db_.transaction(body);
  if (!reply) return reply.error();
  return reply;
}

Expected<json> CommandDesk::catalog_upsert(const Command& c, const CatalogUpsert& a) {
  const auto& item = a.item;
  if (!item.policy.empty() && std::find(hooks_.policies.begin(), hooks_.policies.end(),
                                        item.policy) == hooks_.policies.end()) {
    std::string known;
    for (const auto& pol : hooks_.policies) known += (known.empty() ? "" : ", ") + pol;
    return Error{"args.policy: \"" + item.policy + "\" names no profile in policies (known: " +
                 (known.empty() ? std::string("none") : known) + ")"};
  }
  // A barcode may belong to one active SKU only.
  auto owner = db_.prepare(
      "SELECT b.sku FROM barcodes b JOIN skus k ON k.sku = b.sku"
      " WHERE b.code_key = ?1 AND b.sku <> ?2 AND k.active");
  if (!owner) return owner.error();
  std::vector<std::pair<std::string, std::int64_t>> codes;
  for (const auto& b : item.barcodes) codes.emplace_back(b, 1);
  for (const auto& cb : item.cases) codes.emplace_back(cb.barcode, cb.pack_qty);
  std::set<std::string> keys;
  for (const auto& [code, qty] : codes) {
    if (!keys.insert(barcode_key(code)).second)
      return Error{"args: barcode \"" + code + "\" is listed twice"};
    auto hit = (*owner)->bind(1, barcode_key(code)).bind(2, item.sku).step();
    if (!hit) return hit.error();
    if (*hit) {
      auto other = (*owner)->text(0);
      (*owner)->reset();
      return Error{"args: barcode \"" + code + "\" already belongs to SKU \"" + other + "\""};
    }
    (*owner)->reset();
  }
  auto body = [&]() -> Expected<json> {
    auto now = hooks_.wall_now();
    auto up = db_.prepare(
        "INSERT INTO skus(sku, name, unit, zone, policy, daily_demand, daily_demand_sd, origin,"
        " active, updated_at, pin_demand) VALUES(?1,?2,?3,?4,?5,?6,?7,'cloud',1,?8,?9)"
        " ON CONFLICT(sku) DO UPDATE SET name=excluded.name, unit=excluded.unit,"
        " zone=excluded.zone, policy=excluded.policy, daily_demand=excluded.daily_demand,"
        " daily_demand_sd=excluded.daily_demand_sd, origin='cloud', active=1,"
        " updated_at=excluded.updated_at, pin_demand=excluded.pin_demand");
    if (!up) return up.error();
    if (auto st = (*up)
                      ->bind(1, item.sku)
                      .bind(2, item.name)
                      .bind(3, item.unit)
                      .bind(4, item.zone)
                      .bind(5, item.policy)
                      .bind(6, item.daily_demand)
                      .bind(7, item.daily_demand_sd)
                      .bind(8, now)
                      .bind(9, std::int64_t{item.pin_demand ? 1 : 0})
                      .run();
        !st)
      return st.error();
    auto del = db_.prepare("DELETE FROM barcodes WHERE sku = ?1");
    if (!del) return del.error();
    if (auto st = (*del)->bind(1, item.sku).run(); !st) return st.error();
    // A barcode of an inactive SKU may be taken over.
    auto bc = db_.prepare(
        "INSERT INTO barcodes(code_key, code, sku, pack_qty) VALUES(?1,?2,?3,?4)"
        " ON CONFLICT(code_key) DO UPDATE SET code=excluded.code, sku=excluded.sku,"
        " pack_qty=excluded.pack_qty");
    if (!bc) return bc.error();
    for (const auto& [code, qty] : codes)
      if (auto st =
              (*bc)->bind(1, barcode_key(code)).bind(2, code).bind(3, item.sku).bind(4, qty).run();
          !st)
        return st.error();
    auto reply = make_reply(c.id, true, "", json{{"sku", item.sku}, {"barcodes", codes.size()}});
    if (auto st = record(c, reply); !st) return st.error();
    return reply;
  };
  auto reply = db_.transaction(body);
  if (!reply) return reply.error();
  if (hooks_.catalog_changed) hooks_.catalog_changed();
  return reply;
}

Expected<json> CommandDesk::catalog_remove(const Command& c, const CatalogRemove& a) {
  auto active = db_.prepare("SELECT active FROM skus WHERE sku = ?1");
  if (!active) return active.error();
  auto found = (*active)->bind(1, a.sku).step();
  if (!found) return found.error();
  bool ok = *found && (*active)->int64(0) != 0;
  (*active)->reset();
  if (!ok) return Error{"args.sku: \"" + a.sku + "\" is not an active SKU of this gateway"};
  std::optional<store::SkuLeft> kept;
  auto body = [&]() -> Expected<json> {
    // What stays in the ledger without a barcode to scan it: said in the reply and the log.
    auto left = store::sku_left(db_, a.sku);
    if (!left) return left.error();
    auto off = db_.prepare("UPDATE skus SET active = 0, updated_at = ?2 WHERE sku = ?1");
    if (!off) return off.error();
    if (auto st = (*off)->bind(1, a.sku).bind(2, hooks_.wall_now()).run(); !st) return st.error();
    auto del = db_.prepare("DELETE FROM barcodes WHERE sku = ?1");
    if (!del) return del.error();
    if (auto st = (*del)->bind(1, a.sku).run(); !st) return st.error();
    json result{{"sku", a.sku}, {"active", false}};
    if (!left->empty()) {
      result["left"] = {{"on_hand", left->on_hand},
                        {"held", left->held},
                        {"reserved", left->reserved},
                        {"backordered", left->backordered},
                        {"open_proposals", left->open_proposals}};
      kept = std::move(*left);
    }
    auto reply = make_reply(c.id, true, "", result);
    if (auto st = record(c, reply); !st) return st.error();
    return reply;
  };
  auto reply = db_.transaction(body);
  if (!reply) return reply.error();
  if (kept)
    log::warning("catalog.remove " + printable(c.id, 80) + ": SKU " + kept->sku +
                 " still has " + kept->describe() +
                 ": its barcodes no longer scan; its stock and open work stay in the ledger "
                 "until it is listed again");
  if (hooks_.catalog_changed) hooks_.catalog_changed();
  return reply;
}

Expected<json> CommandDesk::hold_end(const Command& c, const HoldEndCommand& a) {
  if (hooks_.before_stock_change) {
    if (auto st = hooks_.before_stock_change(); !st) return st.error();
    db_.clear_failure();  // a failure committing the scans is not this command's
  }
  auto body = [&](const store::Txn& txn) -> Expected<json> {
    store::HoldContext ctx;
    ctx.now = hooks_.wall_now();
    ctx.mono_ns = hooks_.mono_now_ns();
    ctx.who = a.who;
    ctx.source = "cloud";
    // The movement id comes from the command id: a replay finds it posted (and the command
    // recorded in the same transaction), so it is applied once.
    auto h = store::end_hold(txn, ledger_, a.hold, a.writeoff ? store::HoldEnd::kWriteoff
                                                              : store::HoldEnd::kRelease,
                             a.qty, a.who, a.why, "cmd-" + c.id, ctx);
    if (!h) return Error{"args: " + h.error().message};
    auto reply = make_reply(c.id, true, "", store::hold_json(*h));
    if (auto st = record(c, reply); !st) return st.error();
    return reply;
  };
  auto reply = db_.transaction(body);
  if (!reply) return reply.error();
  return reply;
}

Expected<json> CommandDesk::alarm_ack(const Command& c, const AlarmAck& a) {
  if (std::find(hooks_.zones.begin(), hooks_.zones.end(), a.zone) == hooks_.zones.end())
    return Error{"args.zone: " + coldchain::unknown_zone(a.zone, hooks_.zones)};
  auto body = [&]() -> Expected<json> {
    auto id = store::request_ack(db_, a.zone, a.who, a.comment, "cloud:" + c.id,
                                 hooks_.wall_now(), a.root_cause);
    if (!id) return id.error();
    auto reply = make_reply(c.id, true, "",
                            json{{"zone", a.zone}, {"request", *id}, {"status", "queued"}});
    if (auto st = record(c, reply); !st) return st.error();
    return reply;
  };
  auto reply = db_.transaction(body);
  if (!reply) return reply.error();
  return reply;
}

// The replenishment commands: the change, the command row and the audit record (and the
// proposal's `reorders` record) in one transaction; then the replenishment is told.
namespace {
// A refused reorder.ack / reorder.cancel, named by the argument its rule is about.
Error proposal_refusal(const Error& e) {
  const auto& m = e.message;
  const char* field = m.rfind("ETA", 0) == 0                         ? "args.eta"
                      : m.rfind("acknowledged quantity", 0) == 0     ? "args.quantity"
                      : m.find("order number") != std::string::npos  ? "args.order_number"
                      : m.rfind("a reason for cancelling", 0) == 0   ? "args.reason"
                                                                     : "args.proposal_id";
  return Error{std::string(field) + ": " + m};
}
}  // namespace

Expected<json> CommandDesk::replenish_command(const Command& c) {
  const auto now = hooks_.wall_now();
  const auto now_ms = timefmt::parse_rfc3339_ms(now).value_or(0);
  auto body = [&]() -> Expected<json> {
    json result;
    if (const auto* ack = std::get_if<ReorderAck>(&c.action)) {
      auto p = store::decide_proposal(
          db_, {ack->proposal_id, true, ack->order_number, ack->quantity, ack->eta_ms, ""},
          {ack->who, false, "cloud:" + c.id}, now_ms);
      if (!p) return proposal_refusal(p.error());
      result = {{"proposal_id", p->id},
                {"sku", p->sku},
                {"state", replenish::to_string(p->state)},
                {"order_number", p->order.order_number},
                {"quantity", p->order.quantity},
                {"eta", timefmt::rfc3339_from_unix_ms(p->expected_arrival_ms)}};
    } else if (const auto* can = std::get_if<ReorderCancel>(&c.action)) {
      auto p = store::decide_proposal(db_, {can->proposal_id, false, "", {}, {}, can->reason},
                                      {can->who, false, "cloud:" + c.id}, now_ms);
      if (!p) return proposal_refusal(p.error());
      result = {{"proposal_id", p->id}, {"sku", p->sku}, {"state", replenish::to_string(p->state)}};
    } else if (const auto* set = std::get_if<CampaignSet>(&c.action)) {
      // A date without a time is a day of the site's calendar (docs/replenishment.md).
      auto k = set->campaign;
      replenish::localize(k, hooks_.site_zone);
      auto sku_q = db_.prepare("SELECT 1 FROM skus WHERE sku = ?1 AND active");
      if (!sku_q) return sku_q.error();
      for (std::size_t i = 0; i < k.skus.size(); ++i) {
        auto hit = (*sku_q)->bind(1, k.skus[i]).step();
        if (!hit) return hit.error();
        const bool found = *hit;
        (*sku_q)->reset();
        if (!found)
          return Error{"args.skus[" + std::to_string(i) + "]: \"" + k.skus[i] +
                       "\" is not an active SKU of this gateway"};
      }
      if (!k.policy.empty()) {
        auto pol_q = db_.prepare("SELECT 1 FROM skus WHERE policy = ?1 AND active LIMIT 1");
        if (!pol_q) return pol_q.error();
        auto hit = (*pol_q)->bind(1, k.policy).step();
        if (!hit) return hit.error();
        const bool found = *hit;
        (*pol_q)->reset();
        if (!found)
          return Error{"args.policy: \"" + k.policy + "\" is the policy of no active SKU"};
      }
      if (auto st = store::set_campaign(db_, k, now); !st) return st.error();
      result = {{"name", k.name}, {"factor", k.factor}};
    } else if (const auto* clr = std::get_if<CampaignClear>(&c.action)) {
      auto removed = store::clear_campaign(db_, clr->name);
      if (!removed) return removed.error();
      if (!*removed)
        return Error{"args.name: no campaign \"" + clr->name +
                     "\" was set by the cloud (config campaigns change with the config)"};
      result = {{"name", clr->name}, {"cleared", true}};
    }
    auto reply = make_reply(c.id, true, "", result);
    if (auto st = record(c, reply); !st) return st.error();
    return reply;
  };
  auto reply = db_.transaction(body);
  if (!reply) return reply.error();
  if (hooks_.replenish_changed) hooks_.replenish_changed();
  return reply;
}

// Which of the asked seqs are still kept, resent through the hook; the reply says which are
// not (delivered records are deleted after mqtt.keep_delivered_h, or sooner over the budget).
Expected<json> CommandDesk::stream_replay(const Command& c, const StreamReplay& a) {
  auto q = db_.prepare(
      "SELECT coalesce((SELECT acked_seq FROM outbox_streams WHERE stream = ?1), 0),"
      " coalesce((SELECT next_seq - 1 FROM outbox_streams WHERE stream = ?1), 0)");
  if (!q) return q.error();
  auto row = (*q)->bind(1, a.stream).step();
  if (!row) return row.error();
  const std::int64_t acked = (*q)->int64(0), last = (*q)->int64(1);
  (*q)->reset();
  if (a.from_seq > last)
    return Error{"args.from_seq: " + std::to_string(a.from_seq) + " is beyond the last " +
                 a.stream + " seq (" + std::to_string(last) + ")"};
  std::int64_t to = std::min(a.to_seq.value_or(std::max(acked, a.from_seq)), last);
  if (to - a.from_seq + 1 > kMaxReplay)
    return Error{"args: at most " + std::to_string(kMaxReplay) + " records per stream.replay (" +
                 std::to_string(a.from_seq) + "-" + std::to_string(to) + " asks for " +
                 std::to_string(to - a.from_seq + 1) + ")"};
  // At most kMaxReplayBytes of payload per command (10,000 telemetry records of 16 KiB were
  // 160 MB in memory at once): the range ends earlier, and the reply says where to go on.
  std::optional<std::int64_t> more_from;
  {
    auto sizes = db_.prepare(
        "SELECT seq, length(CAST(payload AS BLOB)) FROM outbox WHERE stream = ?1"
        " AND seq BETWEEN ?2 AND ?3 ORDER BY seq");
    if (!sizes) return sizes.error();
    (*sizes)->bind(1, a.stream).bind(2, a.from_seq).bind(3, to);
    std::int64_t bytes = 0;
    for (;;) {
      auto more = (*sizes)->step();
      if (!more) return more.error();
      if (!*more) break;
      bytes += (*sizes)->int64(1);
      if (bytes > static_cast<std::int64_t>(kMaxReplayBytes) && (*sizes)->int64(0) > a.from_seq) {
        more_from = (*sizes)->int64(0);
        to = *more_from - 1;
        break;
      }
    }
    (*sizes)->reset();
  }
  auto kept = db_.prepare(
      "SELECT count(*), min(seq), max(seq) FROM outbox WHERE stream = ?1 AND seq BETWEEN ?2 AND "
      "?3");
  if (!kept) return kept.error();
  auto k = (*kept)->bind(1, a.stream).bind(2, a.from_seq).bind(3, to).step();
  if (!k) return k.error();
  const std::int64_t n = (*kept)->int64(0);
  const auto first = (*kept)->opt_int64(1), last_kept = (*kept)->opt_int64(2);
  (*kept)->reset();
  json result{{"stream", a.stream}, {"from_seq", a.from_seq}, {"to_seq", to}, {"resent", 0}};
  if (more_from) result["more_from"] = *more_from;  // ask again from there
  const std::int64_t asked = to - a.from_seq + 1;
  if (n < asked) {
    result["not_kept"] = asked - n;
    result["note"] = std::to_string(asked - n) + " of the " + std::to_string(asked) +
                     " records asked for are no longer kept (delivered records are kept for "
                     "mqtt.keep_delivered_h hours; dropped telemetry is in audit data_loss)" +
                     (first ? "; kept: " + std::to_string(*first) + "-" + std::to_string(*last_kept)
                            : std::string("; none is kept"));
  }
  if (n > 0) {
    if (!hooks_.replay) return Error{"stream.replay: this agent cannot publish right now"};
    auto sent = hooks_.replay(a.stream, a.from_seq, to);
    if (!sent) return sent.error();
    result["resent"] = *sent;
    result["first_seq"] = *first;
    result["last_seq"] = *last_kept;
  }
  auto reply = make_reply(c.id, true, "", result);
  if (auto st = db_.transaction([&] { return record(c, reply); }); !st) return st.error();
  return reply;
}

// Orders: the reservation change, its `orders` record, the command row and the audit record
// in one transaction (scans gathered so far are committed first, so a pick scanned before
// the order counts before it); then the replenishment is told (reservations move position).
Expected<json> CommandDesk::order_command(const Command& c) {
  if (hooks_.before_stock_change) {
    if (auto st = hooks_.before_stock_change(); !st) return st.error();
    db_.clear_failure();  // a failure committing the scans is not this command's
  }
  const auto now = hooks_.wall_now();
  orders::Change change;
  auto body = [&](const store::Txn& txn) -> Expected<json> {
    json result;
    if (const auto* res = std::get_if<OrderReserve>(&c.action)) {
      auto lines = store::reserve_order(txn, res->order, now, "cmd-" + c.id, hooks_.site_zone);
      if (!lines) return lines.error();
      result = {{"order_id", res->order.order_id}, {"lines", json::array()}};
      std::int64_t reserved = 0, backordered = 0;
      for (const auto& l : *lines) {
        auto j = store::order_line_json(l);
        if (l.unchanged) {
          j["unchanged"] = true;
        } else {
          change.skus.push_back(l.sku);
          change.intake.push_back({l.sku, l.qty});
        }
        result["lines"].push_back(std::move(j));
        reserved += l.reserved, backordered += l.backordered;
      }
      result["reserved"] = reserved;
      result["backordered"] = backordered;
    } else if (const auto* close = std::get_if<OrderClose>(&c.action)) {
      auto lines = store::close_order(
          txn, close->order_id,
          close->shipped ? orders::LineState::kShipped : orders::LineState::kReleased, now,
          "cmd-" + c.id, hooks_.site_zone);
      if (!lines) return lines.error();
      result = {{"order_id", close->order_id},
                {"state", close->shipped ? "shipped" : "released"},
                {"lines", json::array()}};
      for (const auto& l : *lines) {
        result["lines"].push_back(store::order_line_json(l));
        change.skus.push_back(l.sku);
      }
    }
    auto reply = make_reply(c.id, true, "", result);
    if (auto st = record(c, reply); !st) return st.error();
    return reply;
  };
  auto reply = db_.transaction(body);
  if (!reply) return reply.error();
  if (hooks_.orders_changed && !change.skus.empty()) hooks_.orders_changed(change);
  return reply;
}

// What a transfer source can spare: the rows, the command row and the audit record in one
// transaction; then the replenishment reads them again.
Expected<json> CommandDesk::source_stock(const Command& c, const SourceStockSet& a) {
  if (std::find(hooks_.transfer_sources.begin(), hooks_.transfer_sources.end(), a.source) ==
      hooks_.transfer_sources.end()) {
    std::string known;
    for (const auto& s : hooks_.transfer_sources) known += (known.empty() ? "" : ", ") + s;
    return Error{"args.source: \"" + a.source +
                 "\" is not a transfer source of any policy (suppliers with \"kind\": "
                 "\"transfer\"; known: " + (known.empty() ? std::string("none") : known) + ")"};
  }
  auto body = [&]() -> Expected<json> {
    auto active = db_.prepare("SELECT 1 FROM skus WHERE sku = ?1 AND active");
    if (!active) return active.error();
    auto up = db_.prepare(
        "INSERT INTO source_stock(source, sku, qty, updated_at) VALUES(?1,?2,?3,?4)"
        " ON CONFLICT(source, sku) DO UPDATE SET qty = excluded.qty,"
        " updated_at = excluded.updated_at");
    if (!up) return up.error();
    const auto now = hooks_.wall_now();
    for (std::size_t i = 0; i < a.stock.size(); ++i) {
      const auto& [sku, qty] = a.stock[i];
      auto hit = (*active)->bind(1, sku).step();
      if (!hit) return hit.error();
      const bool found = *hit;
      (*active)->reset();
      if (!found)
        return Error{"args.stock[" + std::to_string(i) + "].sku: \"" + sku +
                     "\" is not an active SKU of this gateway"};
      if (auto st = (*up)->bind(1, a.source).bind(2, sku).bind(3, qty).bind(4, now).run(); !st)
        return st.error();
    }
    auto reply = make_reply(c.id, true, "", json{{"source", a.source}, {"skus", a.stock.size()}});
    if (auto st = record(c, reply); !st) return st.error();
    return reply;
  };
  auto reply = db_.transaction(body);
  if (!reply) return reply.error();
  if (hooks_.replenish_changed) hooks_.replenish_changed();
  return reply;
}

}  // namespace depot::sync
