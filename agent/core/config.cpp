#include "core/config.hpp"

#include <arpa/inet.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/coldchain/config.hpp"
#include "core/gtin.hpp"
#include "core/json_fields.hpp"
#include "core/json_parse.hpp"

namespace depot {
namespace {

using nlohmann::json;

void read_durability(const json& j, Problems& p, Durability& d) {
  ObjectReader r(j, "durability", p);
  if (auto s = r.one_of("synchronous", false, {"normal", "full", "extra"}))
    d.synchronous = *s == "normal" ? Synchronous::kNormal
                    : *s == "full" ? Synchronous::kFull
                                   : Synchronous::kExtra;
  d.batch_max_movements = r.integer_or("batch_max_movements", d.batch_max_movements, 1, 10000);
  d.batch_max_ms = r.integer_or("batch_max_ms", d.batch_max_ms, 0, 1000);
  d.busy_timeout_ms = r.integer_or("busy_timeout_ms", d.busy_timeout_ms, 0, 600000);
  d.readings_commit_s = r.integer_or("readings_commit_s", d.readings_commit_s, 1, 60);
}

// A barcode as written in the catalog: a GTIN (8/12/13/14 digits, check digit verified) or
// an internal code of printable ASCII without spaces that a scan can reach (not starting with
// "]", "(" or the control code prefix "DA:").
bool check_barcode(const std::string& code, const std::string& path, Problems& p) {
  if (code.empty() || code.size() > 48) {
    p.add(path, describe(code) + " must be 1-48 characters");
    return false;
  }
  for (char c : code) {
    if (c <= ' ' || c > '~') {
      p.add(path, describe(code) + " must be printable ASCII without spaces");
      return false;
    }
  }
  // A scan starting with these never reaches the catalog as an internal code (docs/barcodes.md).
  if (code[0] == ']' || code[0] == '(') {
    p.add(path, describe(code) + " must not start with \"" + code.substr(0, 1) + "\": " +
                    (code[0] == ']' ? "a scan starting with it carries a symbology identifier"
                                    : "a scan starting with it is GS1 human-readable data"));
    return false;
  }
  if (code.size() >= 3 && (code[0] == 'D' || code[0] == 'd') &&
      (code[1] == 'A' || code[1] == 'a') && code[2] == ':') {
    p.add(path,
          describe(code) + " must not start with \"DA:\", which marks operator control codes");
    return false;
  }
  if (gtin::is_gtin_length(code) && !gtin::check_digit_ok(code)) {
    p.add(path, describe(code) + " fails the GTIN-" + std::to_string(code.size()) +
                    " check digit (expected " +
                    std::to_string(gtin::check_digit(code.substr(0, code.size() - 1))) + ")");
    return false;
  }
  return true;
}

// Reads one catalog entry; `valid` is false when it had problems (its sku, if any, is still
// returned so duplicates of it are reported too).
std::optional<CatalogItem> read_item(const json& j, const std::string& path, Problems& p,
                                     bool& valid) {
  ObjectReader r(j, path, p);
  if (!r.is_object()) return std::nullopt;
  CatalogItem item;
  const auto before = p.items().size();
  if (auto s = r.identifier("sku", true)) item.sku = *s;
  // Shown on terminals, pages and reports: text, bounded (a name with an escape sequence
  // would redraw an operator's terminal; one of 100 KB made a `stock` row 100 KB wide).
  if (auto s = r.text("name", false, kMaxNameBytes)) item.name = *s;
  if (auto s = r.text("unit", false, kMaxUnitBytes)) item.unit = *s;
  if (const auto* a = r.array("barcodes", false)) {
    for (std::size_t i = 0; i < a->size(); ++i) {
      auto bp = r.path_of("barcodes") + "[" + std::to_string(i) + "]";
      if (!(*a)[i].is_string()) {
        p.add(bp, describe((*a)[i]) + " must be a string (quote it: leading zeros matter)");
        continue;
      }
      auto code = (*a)[i].get<std::string>();
      if (check_barcode(code, bp, p)) item.barcodes.push_back(code);
    }
  }
  if (const auto* a = r.array("cases", false)) {
    for (std::size_t i = 0; i < a->size(); ++i) {
      ObjectReader c((*a)[i], r.path_of("cases") + "[" + std::to_string(i) + "]", p);
      CaseBarcode cb;
      auto code = c.string("barcode", true);
      auto qty = c.integer("qty", true, 1, 1000000);
      if (code && check_barcode(*code, c.path_of("barcode"), p) && qty) {
        cb.barcode = *code;
        cb.pack_qty = *qty;
        item.cases.push_back(cb);
      }
    }
  }
  if (auto z = r.text("zone", false, kMaxZoneBytes)) item.zone = *z;
  if (auto pol = r.string("policy", false)) item.policy = *pol;
  // Units a day: 1e308 passed once and made every reorder point infinite.
  for (auto [key, slot] : {std::pair{"daily_demand", &item.daily_demand},
                           std::pair{"daily_demand_sd", &item.daily_demand_sd}})
    if (auto d = r.number(key, false)) {
      if (!(*d >= 0 && *d <= kMaxDailyDemand))
        p.add(r.path_of(key), describe(*d) + " must be from 0 to " +
                                  std::to_string(static_cast<std::int64_t>(kMaxDailyDemand)) +
                                  " (units a day)");
      *slot = *d;
    }
  item.pin_demand = r.boolean("pin_demand", false).value_or(false);
  if (auto m = r.integer("max_qty_per_scan", false, 1, 1'000'000'000)) item.max_qty_per_scan = *m;
  r.finish();
  valid = p.items().size() == before;
  return item;
}

// Reads catalog entries one at a time, in order, as the parser hands them over (the catalog
// is never a JSON tree: parse_config streams it), checking SKU and barcode clashes across
// them. Problems go to `problems`, in the order found; what each entry named for the later
// sections' checks goes to `refs`.
class CatalogReader {
 public:
  Problems problems;
  std::vector<CatalogItem> items;
  std::vector<CatalogEntryRefs> refs;

  void add(const json& entry, std::size_t i) {
    note_refs(entry, i);
    bool valid = false;
    auto item = read_item(entry, "catalog[" + std::to_string(i) + "]", problems, valid);
    if (!item || item->sku.empty()) return;
    if (auto [it, fresh] = sku_at_.emplace(item->sku, i); !fresh) {
      problems.add("catalog[" + std::to_string(i) + "].sku",
                   describe(item->sku) + " is already used by catalog[" +
                       std::to_string(it->second) + "]");
      return;
    }
    bool clash = false;
    auto claim = [&](const std::string& code, const CodeAt& where) {
      auto [it, fresh] = barcode_at_.emplace(barcode_key(code), where);
      if (!fresh) {
        problems.add(code_path(where),
                     describe(code) + " is already used by " + code_path(it->second));
        clash = true;
      }
    };
    for (std::size_t b = 0; b < item->barcodes.size(); ++b) claim(item->barcodes[b], {i, b, false});
    for (std::size_t c = 0; c < item->cases.size(); ++c) claim(item->cases[c].barcode, {i, c, true});
    if (valid && !clash) items.push_back(std::move(*item));
  }

 private:
  // Where each SKU and barcode was first used, as indexes: the paths are only spelled out
  // for a clash (a 100,000-SKU catalog would otherwise keep 200,000 path strings).
  struct CodeAt {
    std::size_t item, index;
    bool is_case;
  };
  static std::string code_path(const CodeAt& at) {
    return "catalog[" + std::to_string(at.item) + "]." +
           (at.is_case ? "cases[" + std::to_string(at.index) + "].barcode"
                       : "barcodes[" + std::to_string(at.index) + "]");
  }
  void note_refs(const json& entry, std::size_t i) {
    if (!entry.is_object()) return;
    CatalogEntryRefs r{.index = i};
    auto text = [&](const char* key) {
      auto it = entry.find(key);
      return it != entry.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    r.zone = text("zone");
    r.policy = text("policy");
    auto pin = entry.find("pin_demand");
    r.pin_without_demand = pin != entry.end() && *pin == true && !entry.contains("daily_demand");
    if (!r.zone.empty() || !r.policy.empty() || r.pin_without_demand) refs.push_back(std::move(r));
  }

  std::map<std::string, std::size_t, std::less<>> sku_at_;  // sku -> item index
  std::map<std::string, CodeAt, std::less<>> barcode_at_;    // barcode key -> first use
};

}  // namespace

std::optional<CatalogItem> read_catalog_item(const json& j, const std::string& path, Problems& p) {
  bool valid = false;
  auto item = read_item(j, path, p, valid);
  if (!valid) return std::nullopt;
  return item;
}

std::string_view to_string(Synchronous s) {
  switch (s) {
    case Synchronous::kNormal: return "normal";
    case Synchronous::kFull: return "full";
    case Synchronous::kExtra: return "extra";
  }
  return "full";
}

void read_console_settings(const nlohmann::json& j, Problems& p,
                           std::optional<ConsoleSettings>& out) {
  ObjectReader r(j, "console", p);
  if (!r.is_object()) return;
  ConsoleSettings c;
  auto listen = r.string("listen", true);
  if (listen) {
    c.listen = *listen;
    // "address:port": an IPv4 address, or an IPv6 one in brackets; no host names (the
    // server binds before any resolver is asked, and a name could resolve to anything).
    auto colon = listen->rfind(':');
    std::string host = colon == std::string::npos ? std::string() : listen->substr(0, colon);
    std::string port = colon == std::string::npos ? std::string() : listen->substr(colon + 1);
    bool v6 = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (v6) host = host.substr(1, host.size() - 2);
    unsigned char buf[16];
    const bool addr_ok =
        !host.empty() && ::inet_pton(v6 ? AF_INET6 : AF_INET, host.c_str(), buf) == 1;
    long port_n = 0;
    bool port_ok = !port.empty() && port.size() <= 5 &&
                   port.find_first_not_of("0123456789") == std::string::npos;
    if (port_ok) port_n = std::stol(port);
    port_ok = port_ok && port_n >= 1 && port_n <= 65535;
    if (colon == std::string::npos)
      p.add(r.path_of("listen"), describe(*listen) +
                                     " must be \"address:port\", e.g. "
                                     "\"127.0.0.1:9480\" or \"[::1]:9480\"");
    else if (!addr_ok)
      p.add(r.path_of("listen"), describe(*listen) + ": \"" + host +
                                     "\" is not an IPv4 address or a bracketed IPv6 address "
                                     "(host names are not accepted)");
    else if (!port_ok)
      p.add(r.path_of("listen"),
            describe(*listen) + ": the port \"" + port + "\" must be a number from 1 to 65535");
    if (addr_ok && port_ok) {
      c.address = host;
      c.port = static_cast<std::uint16_t>(port_n);
    }
  }
  c.tls_cert = r.string_or("tls_cert", "");
  c.tls_key = r.string_or("tls_key", "");
  if (c.tls_cert.empty() != c.tls_key.empty())
    p.add(r.path_of(c.tls_cert.empty() ? "tls_cert" : "tls_key"),
          std::string("is required when ") + (c.tls_cert.empty() ? "tls_key" : "tls_cert") +
              " is given (TLS needs both the certificate and its key)");
  c.max_connections = r.integer_or("max_connections", c.max_connections, 1, 1024);
  c.request_timeout_s = r.integer_or("request_timeout_s", c.request_timeout_s, 1, 300);
  c.max_header_bytes = r.integer_or("max_header_bytes", c.max_header_bytes, 1024, 65536);
  c.max_body_bytes = r.integer_or("max_body_bytes", c.max_body_bytes, 0, 1048576);
  out = std::move(c);
}

ConfigResult parse_config(std::string_view text) {
  ConfigResult result;
  Problems p;
  // A config is outside input: bounded in size and depth, no duplicate keys, nothing after
  // the document, no number that overflows (a 10,000-SKU catalog is about 2 MB).
  CatalogReader catalog_reader;
  auto parsed = parse_json(text, JsonLimits{kMaxConfigBytes, 32},
                           ArrayStream{"catalog", [&](const json& entry, std::size_t i) {
                                         catalog_reader.add(entry, i);
                                       }});
  if (!parsed) {
    p.add("", parsed.error().message);
    result.problems = p.items();
    return result;
  }
  json doc = std::move(parsed).value();

  Config c;
  {
    ObjectReader r(doc, "", p);
    if (auto s = r.identifier("site", true)) c.site = *s;
    if (auto s = r.identifier("gateway", true)) c.gateway = *s;
    if (auto s = r.string("database", true)) c.database = *s;
    if (auto s = r.string("site_timezone", false)) {
      if (tz::valid_zone_name(*s))
        c.site_timezone = *s;
      else
        p.add("site_timezone", describe(*s) +
                                   " must be an IANA time zone name such as Asia/Shanghai or UTC");
    }
    if (auto s = r.string("audit_key_file", false)) c.audit_key_file = *s;
    if (const auto* d = r.object("durability", false)) read_durability(*d, p, c.durability);
    if (auto s = r.one_of("log_level", false, {"debug", "info", "warning", "error"}))
      c.log_level = *s;
    // Read while parsing (an array "catalog" was streamed to catalog_reader; anything else
    // there is reported here).
    if (r.array("catalog", false)) {
      p.append(std::move(catalog_reader.problems));
      c.catalog = std::move(catalog_reader.items);
    }
    if (const auto* a = r.array("scanners", false)) read_scanners(*a, p, c.scanners);
    const auto* zones = r.array("zones", false);
    const auto* sensors = r.array("sensors", false);
    coldchain::read_coldchain(zones, sensors, catalog_reader.refs, p, c.zones, c.sensors);
    coldchain::read_retention(r.object("retention", false), p, c.retention);
    coldchain::read_alarm_outputs(r.array("outputs", false), r.object("escalation", false), zones,
                                  p, c.alarm_outputs);
    replenish::read_settings(r, catalog_reader.refs, c.catalog, c.replenish);
    if (const auto* m = r.object("mqtt", false))
      read_mqtt_settings(*m, p, c.site, c.gateway, c.mqtt);
    if (const auto* con = r.object("console", false)) read_console_settings(*con, p, c.console);
    if (c.console && c.console->port != 0)
      for (const auto& s : c.scanners)
        if (const auto* t = std::get_if<TcpSettings>(&s.driver);
            t && t->port == c.console->port && listeners_clash(t->listen, c.console->address))
          p.add("console.listen", describe(c.console->listen) + ": port " +
                                      std::to_string(t->port) + " is already taken by scanner " +
                                      describe(s.id) + " on " + describe(t->listen));
  }
  result.problems = p.items();
  if (result.problems.empty()) result.config = std::move(c);
  return result;
}

}  // namespace depot
