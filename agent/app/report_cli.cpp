#include "app/report_cli.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "app/args.hpp"
#include "app/config_file.hpp"
#include "app/store_access.hpp"
#include "core/coldchain/report.hpp"
#include "core/coldchain/report_html.hpp"
#include "core/json_parse.hpp"
#include "core/time.hpp"
#include "store/audit.hpp"
#include "store/coldchain_store.hpp"
#include "store/report_store.hpp"

namespace depot::app {

const char* const kReportUsage =
    R"(  report     --zone Z --from T --to T --out FILE.html [-c FILE]
                                       zone Z's audit report as one self-contained HTML file
                                       (charts, daily min/max/mean/MKT, alarms, holds,
                                       calibration, audit chain head); times in UTC
  readings   --zone Z --from T --to T --csv [--out FILE] [-c FILE]
                                       zone Z's raw readings as CSV (stdout without --out)
             T: RFC 3339 (2026-11-23T14:00:00Z), a date (2026-11-23, UTC midnight), an age
             before now (90s, 15m, 2h, 3d) or "now"; the period is [--from, --to)
)";

namespace {

using nlohmann::json;
namespace cc = coldchain;

using Ctx = CliContext;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<std::int64_t> parse_time(const std::string& s, std::int64_t now) {
  if (s == "now") return now;
  if (auto age = timefmt::parse_age_seconds(s)) return now - *age * 1000;
  return timefmt::parse_rfc3339_ms(s);
}

struct Period {
  std::int64_t from = 0, to = 0;
};

// --zone, --from and --to, checked; nullopt after naming the problem.
std::optional<Period> read_period(const Args& a, Ctx& c) {
  for (const char* required : {"--zone", "--from", "--to"})
    if (!a.get(required) || a.get(required)->empty()) {
      c.fail(required) << ": required\n";
      return std::nullopt;
    }
  const auto now = now_ms();
  Period p;
  for (auto [name, slot] : {std::pair{"--from", &p.from}, std::pair{"--to", &p.to}}) {
    const auto text = *a.get(name);
    auto ms = parse_time(text, now);
    if (!ms) {
      c.fail(name) << ": \"" << printable(text, 60)
                   << "\" must be an RFC 3339 time (2026-11-23T14:00:00Z), a date (2026-11-23), "
                      "an age (90s, 15m, 2h, 3d) or now\n";
      return std::nullopt;
    }
    *slot = *ms;
  }
  if (p.from >= p.to) {
    c.fail("--from") << ": " << timefmt::rfc3339_from_unix_ms(p.from) << " must be before --to "
                     << timefmt::rfc3339_from_unix_ms(p.to) << "\n";
    return std::nullopt;
  }
  if (p.to - p.from > kMaxReportPeriodMs) {
    c.fail("--to") << ": the period from " << timefmt::rfc3339_from_unix_ms(p.from) << " to "
                   << timefmt::rfc3339_from_unix_ms(p.to)
                   << " is longer than 366 days (make one report per year at most)\n";
    return std::nullopt;
  }
  return p;
}

const cc::Zone* find_zone(const LoadedConfig& cfg, const std::string& id, Ctx& c) {
  if (const auto* z = cc::find_zone(cfg.config.zones, id)) return z;
  c.fail("--zone") << ": " << cc::unknown_zone(id, cfg.config.zones) << "\n";
  return nullptr;
}

std::optional<std::int64_t> ms_of(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) return std::nullopt;
  return timefmt::parse_rfc3339_ms(j[key].get<std::string>());
}

std::string str_of(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

std::optional<double> num_of(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? std::optional(j[key].get<double>()) : std::nullopt;
}

// An alarm record as stored (excursions table) or as the daemon last saved it (open).
std::optional<cc::ReportAlarm> alarm_of(const json& x, bool open) {
  cc::ReportAlarm a;
  auto start = ms_of(x, "start");
  if (!start) return std::nullopt;
  a.id = str_of(x, "id");
  a.type = x.contains("alarm_type") ? str_of(x, "alarm_type") : "temperature";
  a.side = str_of(x, "side");
  a.probe = (a.type == "probe_failure" || a.type == "door_open") && x.contains("probe")
                ? str_of(x, "probe")
                : str_of(x, "peak_probe");
  a.limit_c = num_of(x, "limit_c");
  a.peak_c = num_of(x, "peak_c");
  a.degree_minutes = num_of(x, "degree_minutes").value_or(0.0);
  a.start_ms = *start;
  if (!open) a.end_ms = ms_of(x, "end");
  a.alarmed = x.value("alarmed", false);
  a.alarm_ms = ms_of(x, "alarm_at");
  a.cause = str_of(x, "cause");
  a.ended = open ? "" : str_of(x, "ended");
  if (x.contains("acknowledged") && x["acknowledged"].is_object()) {
    const auto& k = x["acknowledged"];
    a.ack = cc::ReportAck{str_of(k, "who"), str_of(k, "comment"), str_of(k, "root_cause"),
                          ms_of(k, "at"), k.value("late", false)};
  }
  return a;
}

}  // namespace

Expected<ZoneReport> build_zone_report(store::Database& db, const Config& cfg,
                                       const coldchain::Zone& zone, std::int64_t from_ms,
                                       std::int64_t to_ms, std::int64_t now) {
  cc::ReportInput in;
  in.zone = zone;
  in.from_ms = from_ms;
  in.to_ms = to_ms;
  in.generated_ms = now;
  in.site = cfg.site;
  in.gateway = cfg.gateway;
  in.site_zone = cfg.site_zone;
  std::map<std::string, std::size_t> index;
  std::int64_t longest_hold = 30'000;
  for (const auto& s : cfg.sensors)
    if (s.zone == zone.id && s.measures == cc::Measure::kTemperature) {
      index[s.id] = in.probes.size();
      cc::ReportProbeInput p;
      p.id = s.id;
      // A reading stands until the next one, at most offline_after_s later; with
      // retention.raw_every_s a quiet probe's stored readings are that far apart.
      p.max_hold_ms = std::max(s.offline_after_s, cfg.retention.raw_every_s > 1
                                                      ? cfg.retention.raw_every_s + s.read_interval_s
                                                      : 0) * 1000;
      longest_hold = std::max(longest_hold, p.max_hold_ms);
      p.calibration = s.calibration;
      in.probes.push_back(std::move(p));
    }
  // Alarms and excursions overlapping the period: recorded ones, then those still open.
  auto closed = store::list_excursions(db, false, 0);
  auto states = store::load_zone_states(db);
  if (!closed) return closed.error();
  if (!states) return states.error();
  std::set<std::string> seen;
  auto take = [&](const json& x, bool open) {
    if (str_of(x, "zone") != zone.id) return;
    auto al = alarm_of(x, open);
    if (!al || al->start_ms >= to_ms || (al->end_ms && *al->end_ms < from_ms)) return;
    if (!seen.insert(al->id).second) return;
    in.alarms.push_back(std::move(*al));
  };
  for (auto it = closed->rbegin(); it != closed->rend(); ++it) take(*it, false);  // oldest first
  for (const auto& [s, updated] : *states)
    if (str_of(s, "zone") == zone.id && s.contains("open_excursions") &&
        s["open_excursions"].is_array())
      for (const auto& x : s["open_excursions"]) take(x, true);

  // Holds of the zone that were open at some time in the period.
  auto holds = store::list_holds(db, false);
  if (!holds) return holds.error();
  const auto from_text = timefmt::rfc3339_from_unix_ms(from_ms);
  const auto to_text = timefmt::rfc3339_from_unix_ms(to_ms);
  for (const auto& h : *holds)
    if (h.zone == zone.id && h.created_at < to_text && (!h.closed_at || *h.closed_at >= from_text))
      in.holds.push_back(
          {h.id, h.sku, h.excursion, h.created_at, h.qty, h.released, h.written_off, h.closed_at});

  auto head = store::audit_head(db);
  if (!head) return head.error();
  if (*head) {
    in.audit.seq = (*head)->seq;
    in.audit.hash = (*head)->hash;
    in.audit.at = (*head)->at;
    in.audit.entries = (*head)->seq;
    if (auto v = store::audit_verify(db)) {
      in.audit.verified = true;
      in.audit.intact = v->ok;
      in.audit.entries = v->entries;
      in.audit.problem = v->ok ? "" : "entry " + std::to_string(v->broken_seq) + ": " + v->problem;
    } else {
      in.audit.problem = v.error().message;  // e.g. a keyed trail without the key
    }
  }

  // The readings last, streamed through the builder: a month of them is never all in memory.
  cc::ReportBuilder builder(std::move(in));
  ZoneReport out;
  auto st = store::for_each_reading(
      db, zone.id, from_ms, to_ms, [&](const store::ReadingRow& r) {
        if (r.quantity != "temperature") return;  // humidity and doors: their own sections
        ++out.readings;
        if (r.clock_unsynchronized) builder.count_unsynchronized();
        auto it = index.find(r.probe);
        if (it == index.end()) {  // a probe no longer configured: still in the report
          cc::ReportProbeInput p;
          p.id = r.probe;
          p.max_hold_ms = longest_hold;
          it = index.emplace(r.probe, builder.add_probe(std::move(p))).first;
        }
        if (r.quality == "good" && r.celsius)
          builder.add(it->second, {r.wall_ms, *r.celsius});
        else
          builder.count_rejected(it->second);
      });
  if (!st) return st.error();
  auto model = builder.finish();
  out.alarms = static_cast<std::size_t>(std::count_if(
      model.in.alarms.begin(), model.in.alarms.end(), [](const auto& x) { return x.alarmed; }));
  out.html = cc::render_report_html(model, "depot-agent " DEPOT_VERSION);
  return out;
}

namespace {

int cmd_report(const Args& a, Ctx& c) {
  auto period = read_period(a, c);
  if (!period) return kBadInput;
  auto out_path = a.get("--out");
  if (!out_path || out_path->empty()) {
    c.fail("--out") << ": required (the HTML file to write)\n";
    return kBadInput;
  }
  auto cfg = cli_load_config(a, c);
  if (!cfg) return kBadInput;
  const cc::Zone* zone = find_zone(*cfg, *a.get("--zone"), c);
  if (!zone) return kBadInput;
  auto db = cli_open_database(*cfg, /*write=*/false, c);
  if (!db) return kFailure;

  auto report = build_zone_report(*db, cfg->config, *zone, period->from, period->to, now_ms());
  if (!report) {
    c.fail(report.error().message) << "\n";
    return kFailure;
  }
  const auto& html = report->html;
  const auto readings = report->readings;
  const auto alarms = report->alarms;
  const auto from_text = timefmt::rfc3339_from_unix_ms(period->from);
  const auto to_text = timefmt::rfc3339_from_unix_ms(period->to);
  const std::string tmp = *out_path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << html;
    f.close();
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      c.fail("--out") << ": cannot write \"" << printable(*out_path, 200) << "\"\n";
      return kFailure;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, *out_path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    c.fail("--out") << ": cannot write \"" << printable(*out_path, 200) << "\"\n";
    return kFailure;
  }
  c.out << "wrote the report of zone " << zone->id << " from " << from_text << " to " << to_text
        << " (" << readings << " readings, " << alarms << " alarm" << (alarms == 1 ? "" : "s")
        << ") to " << *out_path << "\n";
  return kOk;
}

// A CSV field per RFC 4180: quoted when it holds a comma, quote or line break.
std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

int cmd_readings(const Args& a, Ctx& c) {
  auto period = read_period(a, c);
  if (!period) return kBadInput;
  if (!a.has("--csv")) {
    c.fail("--csv") << ": required (CSV is the export format)\n";
    return kBadInput;
  }
  auto cfg = cli_load_config(a, c);
  if (!cfg) return kBadInput;
  // The zone must be configured: a typo would pass as an empty export.
  const cc::Zone* zone = find_zone(*cfg, *a.get("--zone"), c);
  if (!zone) return kBadInput;
  auto db = cli_open_database(*cfg, /*write=*/false, c);
  if (!db) return kFailure;
  std::ofstream file;
  const auto out_path = a.get("--out");
  const std::string tmp = out_path ? *out_path + ".tmp" : "";
  if (out_path) {
    file.open(tmp, std::ios::binary | std::ios::trunc);
    if (!file) {
      c.fail("--out") << ": cannot write \"" << printable(*out_path, 200) << "\"\n";
      return kFailure;
    }
  }
  std::ostream& o = out_path ? static_cast<std::ostream&>(file) : c.out;
  // `celsius` holds %RH for humidity rows and 1 (open) / 0 (closed) for door rows.
  o << "time_utc,probe,zone,celsius,quality,reason,clock_unsynchronized,measures\n";
  std::int64_t n = 0;
  auto st = store::for_each_reading(
      *db, zone->id, period->from, period->to, [&](const store::ReadingRow& r) {
        ++n;
        o << timefmt::rfc3339_from_unix_ms(r.wall_ms) << ',' << csv_field(r.probe) << ','
          << csv_field(r.zone) << ',' << (r.celsius ? cc::format_celsius(*r.celsius) : "") << ','
          << r.quality << ',' << csv_field(r.reason) << ',' << (r.clock_unsynchronized ? 1 : 0)
          << ',' << r.quantity << '\n';
      });
  if (!st) {
    c.fail(st.error().message) << "\n";
    if (out_path) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
    }
    return kFailure;
  }
  if (out_path) {
    file.close();
    std::error_code ec;
    if (!file || (std::filesystem::rename(tmp, *out_path, ec), ec)) {
      std::filesystem::remove(tmp, ec);
      c.fail("--out") << ": cannot write \"" << printable(*out_path, 200) << "\"\n";
      return kFailure;
    }
    c.err << "wrote " << n << " readings of zone " << zone->id << " to " << *out_path << "\n";
  }
  return kOk;
}

}  // namespace

const std::vector<CliCommand>& report_commands() {
  static const std::vector<CliCommand> commands = {
      {"report",
       {kConfigOption,
        {"--zone", true, ""},
        {"--from", true, ""},
        {"--to", true, ""},
        {"--out", true, ""}},
       cmd_report},
      {"readings",
       {kConfigOption,
        {"--zone", true, ""},
        {"--from", true, ""},
        {"--to", true, ""},
        {"--csv", false, ""},
        {"--out", true, ""}},
       cmd_readings},
  };
  return commands;
}

}  // namespace depot::app
