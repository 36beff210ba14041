#include "app/cold_chain.hpp"


#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "core/json_parse.hpp"
#include "core/time.hpp"
#include "store/audit.hpp"
#include "store/output_store.hpp"

namespace depot::app {

using nlohmann::json;
namespace cc = coldchain;

namespace {

constexpr std::int64_t kMsPerMinute = 60'000;
constexpr std::int64_t kMsPerDay = 86'400'000;
constexpr std::int64_t kPruneEveryNs = 24LL * 3600 * cc::kNsPerSecond;
constexpr std::int64_t kStateEveryNs = 10 * cc::kNsPerSecond;

std::string rfc(std::int64_t wall_ms) { return timefmt::rfc3339_from_unix_ms(wall_ms); }

std::int64_t minute_of(std::int64_t wall_ms) {
  std::int64_t m = wall_ms / kMsPerMinute;
  if (wall_ms < 0 && wall_ms % kMsPerMinute) --m;
  return m * kMsPerMinute;
}

json opt(const std::optional<double>& v) { return v ? json(std::round(*v * 1000) / 1000) : json(); }

json calibration_json(const std::optional<cc::Calibration>& c) {
  if (!c) return nullptr;
  return {{"certificate", c->certificate},
          {"date", timefmt::rfc3339_from_unix_ms(c->date_ms).substr(0, 10)},
          {"due", timefmt::rfc3339_from_unix_ms(c->due_ms).substr(0, 10)}};
}

}  // namespace

Expected<bool> audit_config_change(store::Database& db, const std::string& path,
                                   std::string_view config_sha256, std::string_view why,
                                   std::string_view now) {
  const std::string sha(config_sha256);
  auto before = db.meta("config_sha256");
  if (!before) return before.error();
  if (*before && **before == sha) return false;
  auto st = db.transaction([&]() -> Status {
    store::AuditEntry a;
    a.who = "agent";
    a.at = std::string(now);
    a.what = "config.change";
    a.why = std::string(why);
    a.details = {{"path", path},
                 {"previous_sha256", *before ? json(**before) : json()},
                 {"sha256", sha}};
    if (auto r = store::audit_append(db, a); !r) return r.error();
    return db.set_meta("config_sha256", sha);
  });
  if (!st) return st.error();
  return true;
}

// A zone's monitors: its temperature, and (when it has such probes) its humidity and doors,
// each judged by its own ZoneMonitor (cc::humidity_rules, cc::door_rules).
struct ColdChain::ZoneSlot {
  ZoneSlot(const cc::Zone& z, const std::vector<cc::SensorConfig>& sensors)
      : monitor(z, cc::probes_of(z.id, sensors)) {
    if (auto rh = cc::probes_of(z.id, sensors, cc::Measure::kHumidity); !rh.empty())
      humidity.emplace(cc::humidity_rules(z), std::move(rh), cc::AlarmType::kHumidity);
    if (auto d = cc::probes_of(z.id, sensors, cc::Measure::kDoor); !d.empty())
      doors.emplace(cc::door_rules(z), std::move(d), cc::AlarmType::kDoorOpen);
  }
  cc::ZoneMonitor monitor;  // temperature
  std::optional<cc::ZoneMonitor> humidity, doors;

  std::vector<cc::ZoneMonitor*> all() {
    std::vector<cc::ZoneMonitor*> out{&monitor};
    if (humidity) out.push_back(&*humidity);
    if (doors) out.push_back(&*doors);
    return out;
  }
  std::vector<const cc::ZoneMonitor*> all() const {
    std::vector<const cc::ZoneMonitor*> out{&monitor};
    if (humidity) out.push_back(&*humidity);
    if (doors) out.push_back(&*doors);
    return out;
  }
  cc::ZoneMonitor* of(cc::Measure m) {
    switch (m) {
      case cc::Measure::kHumidity:
        return humidity ? &*humidity : nullptr;
      case cc::Measure::kDoor:
        return doors ? &*doors : nullptr;
      case cc::Measure::kTemperature:
        break;
    }
    return &monitor;
  }
  cc::Level level() const {
    cc::Level l = cc::Level::kNormal;
    for (const auto* m : all()) l = std::max(l, m->level());
    return l;
  }
};

struct ColdChain::ProbeSlot {
  ZoneSlot* zone = nullptr;
  cc::ZoneMonitor* monitor = nullptr;  // the zone's monitor of what this probe measures
  cc::Measure measures = cc::Measure::kTemperature;
  std::string zone_id;
  cc::ProbeCheck check;
  // The minute being summarised.
  std::int64_t minute_ms = std::numeric_limits<std::int64_t>::min();
  double min_c = 0, max_c = 0, sum_c = 0;
  std::int64_t count = 0, good = 0;
  std::optional<cc::Reading> last;  // the latest reading of any quality
  std::optional<std::int64_t> stored_mono_ns;  // the latest raw reading stored

  void close_minute(std::vector<store::MinuteSummary>& out, const std::string& probe) {
    if (count == 0) return;
    store::MinuteSummary m;
    m.probe = probe;
    m.zone = zone_id;
    m.measures = measures;
    m.minute_ms = minute_ms;
    if (good > 0) {
      m.min_c = min_c;
      m.max_c = max_c;
      m.mean_c = sum_c / static_cast<double>(good);
    }
    m.count = count;
    m.good = good;
    out.push_back(std::move(m));
    count = good = 0;
    sum_c = 0;
  }
};

ColdChain::ColdChain(store::Database& db, store::Ledger& ledger, ColdChainSettings settings,
                     ColdChainHooks hooks)
    : db_(db), ledger_(ledger), settings_(std::move(settings)), hooks_(std::move(hooks)) {
  run_id_ = hooks_.new_id ? hooks_.new_id() : std::string("run");
  for (const auto& z : settings_.zones) {
    zones_.push_back(std::make_unique<ZoneSlot>(z, settings_.sensors));
  }
  for (const auto& s : settings_.sensors) {
    ProbeSlot p;
    for (auto& z : zones_)
      if (z->monitor.zone().id == s.zone) p.zone = z.get();
    if (!p.zone) continue;
    p.measures = s.measures;
    p.monitor = p.zone->of(s.measures);
    p.zone_id = s.zone;
    p.check = s.check();
    probes_.emplace(s.id, std::move(p));
  }
  if (!settings_.outputs.outputs.empty())
    escalator_ = std::make_unique<cc::Escalator>(settings_.outputs);
}

ColdChain::~ColdChain() = default;

const cc::ZoneMonitor* ColdChain::monitor(std::string_view zone) const {
  for (const auto& z : zones_)
    if (z->monitor.zone().id == zone) return &z->monitor;
  return nullptr;
}

std::string ColdChain::excursion_id(const cc::Excursion& x) const {
  std::string what;
  switch (x.type) {
    case cc::AlarmType::kProbeFailure:
      what = "probe_failure:" + x.peak_probe;
      break;
    case cc::AlarmType::kHumidity:
      what = "humidity-" + std::string(cc::to_string(x.side));
      break;
    case cc::AlarmType::kDoorOpen:
      what = "door";
      break;
    case cc::AlarmType::kTemperature:
      what = std::string(cc::to_string(x.side));
      break;
  }
  return x.zone + "/" + what + "/" + run_id_ + "/" + std::to_string(x.seq);
}

// The limits and offsets the monitors judge by, as applied: zone rules and probe offsets and
// ranges (and retention.raw_every_s when above 1). A change (they apply at a start: a reload
// says "at the next restart") is one `coldchain.limits` audit entry with the old and new
// values, when it takes effect.
Status ColdChain::audit_applied_limits(const std::string& now_s) {
  json applied = json::object();
  for (const auto& z : settings_.zones)
    applied["zones"][z.id] = {{"min_c", opt(z.min_c)},
                              {"max_c", opt(z.max_c)},
                              {"warning_band_c", z.warning_band_c},
                              {"alarm_delay_s", z.alarm_delay_s},
                              {"hysteresis_c", z.hysteresis_c},
                              {"repeat_s", z.repeat_s},
                              {"cumulative", z.cumulative ? json{{"window_s", z.cumulative->window_s},
                                                                 {"limit_s", z.cumulative->limit_s}}
                                                          : json()},
                              {"combine", cc::to_string(z.combine)}};
  // Humidity and door rules only where configured (an unchanged config of a release before
  // them audits nothing new).
  for (const auto& z : settings_.zones) {
    if (z.min_rh || z.max_rh)
      applied["zones"][z.id]["humidity"] = {{"min_rh", opt(z.min_rh)},
                                            {"max_rh", opt(z.max_rh)},
                                            {"rh_warning_band", z.rh_warning_band},
                                            {"rh_alarm_delay_s", opt(z.rh_alarm_delay_s)},
                                            {"rh_hysteresis", z.rh_hysteresis}};
    if (!cc::probes_of(z.id, settings_.sensors, cc::Measure::kDoor).empty())
      applied["zones"][z.id]["door_open_alarm_s"] = z.door_open_alarm_s;
  }
  for (const auto& s : settings_.sensors)
    applied["probes"][s.id] = {{"zone", s.zone},
                               {"calibration", calibration_json(s.calibration)},
                               {"offset_c", s.offset_c},
                               {"plausible_min_c", s.plausible_min_c},
                               {"plausible_max_c", s.plausible_max_c},
                               {"offline_after_s", s.offline_after_s}};
  for (const auto& s : settings_.sensors) {
    if (s.measures != cc::Measure::kTemperature)
      applied["probes"][s.id]["measures"] = cc::to_string(s.measures);
    if (s.measures == cc::Measure::kDoor) applied["probes"][s.id]["open_value"] = s.open_value;
  }
  // Thinning the stored raw readings changes the evidence kept: audited where it is in use
  // (the default, 1, audits nothing new for a config of a release before it).
  if (settings_.retention.raw_every_s != 1)
    applied["retention"] = {{"raw_every_s", settings_.retention.raw_every_s}};
  const std::string text = applied.dump();
  auto before = db_.meta("coldchain_applied");
  if (!before) return before.error();
  if (*before && **before == text) return {};
  json old;
  if (*before) {
    auto parsed = parse_json(**before, JsonLimits{1 << 22, 16});
    if (parsed) old = std::move(*parsed);
  }
  store::AuditEntry a;
  a.who = "agent";
  a.at = now_s;
  a.what = "coldchain.limits";
  a.why = *before ? "zone limits, probe offsets or raw-reading thinning changed; applied from "
                    "this start"
                  : "zone limits and probe offsets in force from this start";
  a.details = {{"old", old}, {"new", applied}};
  if (auto r = store::audit_append(db_, a); !r) return r.error();
  return db_.set_meta("coldchain_applied", text);
}

// A limit excursion the previous run left open continues in the new monitors if the zone is
// found beyond that limit before it is seen back within it with every probe reporting
// (ZoneMonitor::carry_over): its time beyond the limit counts toward the delay, and one that
// had alarmed alarms again at once.
void ColdChain::carry_over(const json& rec) {
  // Saved by the previous run, but read as outside input: any field may be missing or of the
  // wrong type (nothing here may throw or assert).
  auto text = [&](const char* k) -> std::string {
    auto it = rec.find(k);
    return it != rec.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string type = rec.contains("alarm_type") ? text("alarm_type") : "temperature";
  const std::string side = text("side"), zone = text("zone");
  if ((type != "temperature" && type != "humidity") || (side != "high" && side != "low")) return;
  double out_s = 0.0;
  if (auto it = rec.find("out_of_range_s"); it != rec.end() && it->is_number())
    out_s = it->get<double>();
  if (!std::isfinite(out_s)) out_s = 0.0;
  bool alarmed = false;
  if (auto it = rec.find("alarmed"); it != rec.end() && it->is_boolean()) alarmed = it->get<bool>();
  for (auto& z : zones_) {
    if (z->monitor.zone().id != zone) continue;
    cc::ZoneMonitor* m = type == "humidity" ? (z->humidity ? &*z->humidity : nullptr) : &z->monitor;
    if (!m) return;
    m->carry_over(side == "low" ? cc::Side::kLow : cc::Side::kHigh,
                  static_cast<std::int64_t>(std::clamp(out_s, 0.0, 1e7) * 1e9), alarmed);
    log::info("cold chain: zone " + zone + ": the " + type + " excursion (" + side +
              ") open at the last stop continues if the zone is still beyond its limit" +
              (alarmed ? " (it had alarmed: at once)" : ""));
    return;
  }
}

Status ColdChain::start(const cc::Instant& now) {
  started_ = true;
  last_ = now;
  last_readings_mono_ns_ = now.mono_ns;
  if (auto queued = store::pending_acks(db_))
    for (const auto& q : *queued) acks_before_start_ = std::max(acks_before_start_, q.id);
  auto states = store::load_zone_states(db_);
  if (!states) return states.error();
  const auto now_s = rfc(now.wall_ms);
  auto st = db_.transaction([&]() -> Status {
    for (auto& [state, updated_ms] : *states) {
      // Saved by the previous run: a record it cannot stand on is discarded with a warning,
      // never allowed to stop the start.
      auto open = state.find("open_excursions");
      if (open == state.end() || !open->is_array()) continue;
      // The end is the later of the zone's last committed reading (the state is written only
      // every 10 s: ending at its write time closed excursions up to 10 s early after a
      // SIGKILL) and the state's last write, which saw the record still open: a probe gone
      // silent stores no readings, and its failure record ended at the last one, before the
      // failure began (0 s for one that lasted days).
      std::int64_t end_ms = updated_ms;
      if (auto zone = state.find("zone"); zone != state.end() && zone->is_string())
        if (auto last = store::last_reading_ms(db_, zone->get<std::string>()); last && *last)
          end_ms = std::max(end_ms, **last);
      for (auto rec : *open) {
        if (!rec.is_object()) continue;
        carry_over(rec);
        const auto start_ms = rec.value("start_wall_ms", json()).is_number_integer()
                                  ? rec["start_wall_ms"].get<std::int64_t>()
                                  : end_ms;
        const std::int64_t rec_end = std::max(end_ms, start_ms);
        rec["end"] = rfc(rec_end);
        rec["end_wall_ms"] = rec_end;
        rec["duration_s"] = static_cast<double>(rec_end - start_ms) / 1000.0;
        if (auto s = store::insert_excursion(db_, rec, "restart", now_s); !s) {
          if (!s.error().is_bad_input()) return s;  // the database failed, not the record
          log::warning("cold chain: an open excursion saved by the previous run is unreadable "
                       "and was discarded: " + s.error().message);
        }
      }
    }
    if (auto s = audit_applied_limits(now_s); !s) return s;
    // Output failures of the previous run: the outputs are tried anew (a failing one raises
    // its alarm again at its next attempt).
    if (auto s = store::clear_all_output_failures(db_, "agent restarted", now.wall_ms); !s)
      return s;
    auto del = db_.exec("DELETE FROM zone_state");
    if (!del) return del;
    for (const auto& z : zones_)
      if (auto s = store::save_zone_state(db_, z->monitor.zone().id, zone_state(*z, now),
                                          now.wall_ms);
          !s)
        return s;
    return {};
  });
  if (st && escalator_ && hooks_.run_output)
    for (auto& a : escalator_->start_resets(now)) {
      log::info("alarm output " + a.output + ": reset at start");
      hooks_.run_output(std::move(a));
    }
  return st;
}

void ColdChain::on_reading(cc::Reading raw) {
  auto it = probes_.find(raw.probe);
  if (it == probes_.end()) {
    ++counters_.unknown_probe;
    return;
  }
  auto& p = it->second;
  cc::Reading r = cc::check_reading(std::move(raw), p.check);
  ++counters_.readings;
  // Per-minute summary (by wall time: what people read the summaries by).
  const auto minute = minute_of(r.wall_ms);
  if (minute != p.minute_ms) {
    p.close_minute(minutes_, it->first);
    p.minute_ms = minute;
  }
  ++p.count;
  if (r.quality == cc::Quality::kGood) {
    if (p.good == 0) p.min_c = p.max_c = r.celsius;
    p.min_c = std::min(p.min_c, r.celsius);
    p.max_c = std::max(p.max_c, r.celsius);
    p.sum_c += r.celsius;
    ++p.good;
  }
  const bool out_of_order = p.last && r.mono_ns <= p.last->mono_ns;  // the monitor drops it
  p.last = r;
  auto events = p.monitor->on_reading(r);
  // The raw reading (before the events it caused: a zone event commits the readings before
  // it, with it). Every one, unless retention.raw_every_s thins out the quiet ones: good, in
  // order, inside the limits less the warning band, no event, the whole zone (temperature,
  // humidity, doors) normal.
  const auto every_ns = settings_.retention.raw_every_s * cc::kNsPerSecond;
  auto quiet = [&] {
    if (r.quality != cc::Quality::kGood || out_of_order || !events.empty() ||
        !p.monitor->closed_excursions().empty() || p.zone->level() != cc::Level::kNormal)
      return false;
    const auto& z = p.monitor->zone();
    return !(z.min_c && r.celsius <= *z.min_c + z.warning_band_c) &&
           !(z.max_c && r.celsius >= *z.max_c - z.warning_band_c);
  };
  const bool store_raw = every_ns <= cc::kNsPerSecond || !p.stored_mono_ns || !quiet() ||
                         r.mono_ns - *p.stored_mono_ns >= every_ns - cc::kNsPerSecond / 2;
  if (store_raw) {
    p.stored_mono_ns = r.mono_ns;
    buffer_.push_back({r, p.zone_id, p.measures});
  } else {
    ++counters_.raw_not_stored;
  }
  const auto at = r.at();
  if (!events.empty() || !p.monitor->closed_excursions().empty())
    handle(*p.monitor, std::move(events), at);
  if (buffer_.size() >= settings_.flush_max_readings) (void)flush();
}

void ColdChain::handle(cc::ZoneMonitor& m, std::vector<cc::Event> events, const cc::Instant& now) {
  for (auto& e : events) {
    std::string xid;
    if (e.excursion) {
      xid = excursion_id(*e.excursion);
    } else if (e.side) {
      if (const auto& open = m.open_excursion(*e.side)) xid = excursion_id(*open);
    }
    escalate(e, xid);
    pending_.push_back({std::move(e), std::move(xid), m.type()});
  }
  for (const auto& x : m.take_closed_excursions()) {
    const auto end_ns = x.end ? x.end->mono_ns : now.mono_ns;
    closed_.push_back(store::excursion_json(x, excursion_id(x), end_ns));
  }
  counters_.events += static_cast<std::int64_t>(events.size());
  state_dirty_ = true;
  if (auto st = commit_pending(now); !st) {
    ++counters_.store_errors;
    log::error("cold chain: storing zone events failed (retried at the next tick): " +
               st.error().message);
  }
}

Status ColdChain::write_readings() {
  if (!buffer_.empty()) {
    if (auto st = store::insert_readings(db_, buffer_, settings_.telemetry,
                                         "readings-" + (hooks_.new_id ? hooks_.new_id() : run_id_),
                                         rfc(buffer_.back().reading.wall_ms),
                                         settings_.telemetry_record_bytes);
        !st)
      return st;
  }
  if (!minutes_.empty())
    if (auto st = store::insert_minutes(db_, minutes_); !st) return st;
  return {};
}

Status ColdChain::commit_pending(const cc::Instant& now) {
  if (pending_.empty() && closed_.empty()) return {};
  // A temperature alarm puts the zone's stock on hold; a probe failure does not (nothing says
  // the goods were warm: the alarm asks a person to look).
  // Humidity and door alarms do not either: they ask a person to look at the goods.
  auto holds_stock = [](const PendingEvent& p) {
    return p.event.kind == cc::EventKind::kAlarm && p.event.cause != cc::AlarmCause::kProbeFailure &&
           p.monitor == cc::AlarmType::kTemperature;
  };
  const bool alarm = std::any_of(pending_.begin(), pending_.end(),
                                 [&](const PendingEvent& p) { return holds_stock(p); });
  if (alarm && hooks_.before_stock_change) hooks_.before_stock_change();
  const auto now_s = rfc(now.wall_ms);
  std::int64_t holds = 0;
  auto st = db_.transaction([&](const store::Txn& txn) -> Status {
    // The readings that led here commit with the events they caused.
    if (auto s = write_readings(); !s) return s;
    for (const auto& p : pending_) {
      const auto& e = p.event;
      const auto id = "zev-" + (hooks_.new_id ? hooks_.new_id() : run_id_ + std::to_string(e.at.mono_ns));
      if (auto s = store::insert_zone_event(db_, e, id, p.excursion_id); !s) return s;
      if (holds_stock(p)) {
        store::HoldContext ctx;
        ctx.now = rfc(e.at.wall_ms);
        ctx.mono_ns = e.at.mono_ns;
        auto placed =
            store::place_holds(txn, ledger_, e.zone, p.excursion_id, "hold-" + p.excursion_id, ctx);
        if (!placed) return placed.error();
        holds += static_cast<std::int64_t>(placed->size());
      } else if (e.kind == cc::EventKind::kAcknowledged) {
        store::AuditEntry a;
        a.who = e.who;
        a.at = rfc(e.at.wall_ms);
        a.what = "alarm.ack";
        a.why = e.comment;
        a.details = {{"zone", e.zone},
                     {"excursion", p.excursion_id},
                     {"side", e.side ? json(cc::to_string(*e.side)) : json()}};
        if (!e.side && !e.probe.empty()) a.details["probe"] = e.probe;
        if (e.excursion && e.excursion->acknowledgement &&
            !e.excursion->acknowledgement->root_cause.empty())
          a.details["root_cause"] = e.excursion->acknowledgement->root_cause;
        if (e.excursion)
          a.details["excursion_record"] = store::excursion_json(*e.excursion, p.excursion_id, e.at.mono_ns);
        if (auto r = store::audit_append(db_, a); !r) return r.error();
      }
    }
    for (const auto& x : closed_)
      if (auto s = store::insert_excursion(db_, x, "closed", now_s); !s) return s;
    return {};
  });
  if (!st) return st;
  counters_.holds += holds;
  for (const auto& p : pending_) {
    const auto& e = p.event;
    if (e.kind == cc::EventKind::kProbeOffline || e.kind == cc::EventKind::kProbeOnline)
      log::warning("cold chain: " + e.zone + ": probe " + e.probe + " " +
                   std::string(cc::to_string(e.kind)));
    else if (e.kind != cc::EventKind::kAcknowledged && p.monitor == cc::AlarmType::kDoorOpen)
      log::warning("cold chain: zone " + e.zone + " door " +
                   (e.excursion ? e.excursion->peak_probe : e.probe) +
                   (e.kind == cc::EventKind::kWarning          ? " opened"
                    : e.kind == cc::EventKind::kAlarm          ? " open too long: door_open alarm"
                    : e.kind == cc::EventKind::kCleared        ? " closed (door_open cleared)"
                    : e.kind == cc::EventKind::kWarningCleared ? " closed"
                                                               : " " + std::string(cc::to_string(e.kind))));
    else if (e.kind != cc::EventKind::kAcknowledged)
      log::warning("cold chain: zone " + e.zone + " " +
                   (p.monitor == cc::AlarmType::kHumidity ? "humidity " : "") +
                   std::string(cc::to_string(e.kind)) +
                   (e.side ? " (" + std::string(cc::to_string(*e.side)) + ")" : "") +
                   (!e.side && !e.probe.empty() ? " (probe_failure: " + e.probe + ")" : "") +
                   (e.celsius ? " at " + cc::format_celsius(*e.celsius) +
                                     (p.monitor == cc::AlarmType::kHumidity ? " %RH" : " C")
                               : ""));
  }
  if (holds) log::warning("cold chain: " + std::to_string(holds) + " SKU(s) put on quality hold");
  pending_.clear();
  closed_.clear();
  buffer_.clear();
  minutes_.clear();
  return {};
}

Status ColdChain::flush() {
  if (buffer_.empty() && minutes_.empty()) return {};
  auto st = db_.transaction([&] { return write_readings(); });
  if (!st) {
    ++counters_.store_errors;
    log::error("cold chain: storing readings failed (kept for the next commit): " +
               st.error().message);
    return st;
  }
  ++counters_.flushes;
  buffer_.clear();
  minutes_.clear();
  return {};
}

void ColdChain::apply_acks(const cc::Instant& now) {
  auto acks = store::pending_acks(db_);
  if (!acks) {
    log::error("cold chain: reading acknowledgement requests: " + acks.error().message);
    return;
  }
  for (const auto& a : *acks) {
    ZoneSlot* slot = nullptr;
    for (auto& z : zones_)
      if (z->monitor.zone().id == a.zone) slot = z.get();
    std::string result;
    bool applied = false;
    // A request row is outside input (any program may write the table): its text goes into
    // the audit trail and JSON records, so it must be well-formed and bounded.
    std::string bad = text_problem("who", a.who, kMaxSignerBytes);
    if (bad.empty()) bad = text_problem("comment", a.comment, kMaxCommentBytes);
    if (bad.empty()) bad = text_problem("root_cause", a.root_cause, kMaxCommentBytes);
    std::size_t n_open = 0, n_ended = 0;
    std::vector<std::string> ended_ids;
    // Queued before this run: only the alarms raised by its time (its start may have raised
    // the zone's alarm anew, which must be acknowledged again). A live request covers every
    // open alarm (wall times may have stepped back since an alarm was raised).
    const auto raised_by = a.id <= acks_before_start_ ? timefmt::parse_rfc3339_ms(a.requested_at)
                                                      : std::nullopt;
    bool check_ended = false;  // also acknowledge alarms of the zone that ended unacknowledged
    if (!bad.empty()) {
      result = bad;
    } else if (!slot) {
      result = "zone \"" + printable(a.zone, 64) + "\"" + std::string(cc::ZoneMonitor::kNotAZone);
    } else {
      check_ended = true;
      // Every monitor of the zone: temperature, humidity, doors; the alarms raised by the time
      // it was asked for (one queued while no agent ran is not for the alarm its start raised).
      for (auto* m : slot->all()) {
        auto events = m->acknowledge(a.who, a.comment, now, a.root_cause, raised_by);
        if (!events) {
          if (result.empty()) result = events.error().message;
          continue;
        }
        for (const auto& e : *events)
          if (e.kind == cc::EventKind::kAcknowledged) ++n_open;
        handle(*m, std::move(*events), now);
      }
    }
    // A cloud command's outcome reaches the cloud: an `audit` record in the same transaction
    // (durable) and, through the hook, a second reply on cmd/alarm.ack/reply.
    const bool from_cloud = a.source.rfind("cloud:", 0) == 0;
    const std::string command_id = from_cloud ? a.source.substr(6) : std::string();
    json outcome;
    auto st = db_.transaction([&](const store::Txn& txn) -> Status {
      if (check_ended) {
        auto ended = store::ack_ended_alarms(txn, a.zone, a.who, a.comment, a.root_cause,
                                             now.wall_ms, a.source);
        if (!ended) return ended.error();
        n_ended = ended->size();
        ended_ids = *ended;
        applied = n_open + n_ended > 0;
        if (applied)
          result = "acknowledged " + std::to_string(n_open + n_ended) + " alarm(s) of zone " +
                   a.zone + (n_ended ? " (" + std::to_string(n_ended) + " already ended)" : "");
      }
      outcome = {{"zone", a.zone},
                 {"request", a.id},
                 {"status", applied ? "applied" : "rejected"},
                 {"detail", result}};
      if (auto f = store::finish_ack(db_, a.id, applied, result, rfc(now.wall_ms)); !f) return f;
      if (!from_cloud) return {};
      json rec{{"command", "alarm.ack"},
               {"command_id", command_id},
               {"ok", applied},
               {"result", outcome},
               {"error", applied ? json() : json(result)}};
      store::AuditEntry entry{
          "cloud", rfc(now.wall_ms), "command.outcome",
          "cloud command alarm.ack " + std::string(applied ? "applied" : "refused"), rec};
      entry.record_fields = std::move(rec);
      entry.record_id = "command:" + command_id + ":outcome";
      if (auto r = store::audit_append(db_, entry); !r) return r.error();
      return {};
    });
    if (st && escalator_)  // alarms that ended unacknowledged stop escalating too
      for (const auto& id : ended_ids) escalator_->acknowledge(id, now);
    if (st && from_cloud && hooks_.cloud_ack_outcome)
      hooks_.cloud_ack_outcome(command_id, applied, outcome, applied ? std::string() : result);
    if (!st) log::error("cold chain: recording acknowledgement " + std::to_string(a.id) + ": " +
                        st.error().message);
    else
      log::info("cold chain: acknowledgement request " + std::to_string(a.id) + " by " +
                printable(a.who, 64) + ": " + result);
  }
}

json ColdChain::zone_state(const ZoneSlot& z, const cc::Instant& now) const {
  const auto& m = z.monitor;
  json probes = json::array();
  for (const auto* mon : z.all())
  for (const auto& ps : mon->probes()) {
    json p{{"id", ps.spec.id},
           {"measures", mon->type() == cc::AlarmType::kHumidity   ? "humidity"
                        : mon->type() == cc::AlarmType::kDoorOpen ? "door"
                                                                  : "temperature"},
           {"state", cc::to_string(ps.state)},
           {"celsius", opt(ps.celsius)},
           {"counts",
            {{"good", ps.counts.good},
             {"implausible", ps.counts.implausible},
             {"crc_failed", ps.counts.crc_failed},
             {"no_data", ps.counts.no_data},
             {"out_of_order", ps.counts.out_of_order},
             {"while_offline", ps.counts.while_offline}}}};
    auto it = probes_.find(ps.spec.id);
    for (const auto& sc : settings_.sensors)
      if (sc.id == ps.spec.id && sc.calibration) {
        p["calibration"] = calibration_json(sc.calibration);
        p["calibration"]["overdue"] = cc::calibration_overdue(*sc.calibration, now.wall_ms);
      }
    if (it != probes_.end() && it->second.last) {
      const auto& r = *it->second.last;
      const bool has_value = r.quality == cc::Quality::kGood || r.quality == cc::Quality::kImplausible;
      p["last"] = {{"celsius", has_value ? opt(r.celsius) : json()},
                   {"quality", cc::to_string(r.quality)},
                   {"reason", r.reason},
                   {"at", rfc(r.wall_ms)},
                   {"wall_ms", r.wall_ms},
                   {"clock_unsynchronized", r.flags.clock_unsynchronized}};
    } else {
      p["last"] = nullptr;
    }
    probes.push_back(std::move(p));
  }
  json open = json::array();
  for (const auto* mon : z.all()) {
    for (auto side : {cc::Side::kHigh, cc::Side::kLow})
      if (const auto& x = mon->open_excursion(side))
        open.push_back(store::excursion_json(*x, excursion_id(*x), now.mono_ns));
    for (const auto& ps : mon->probes())
      if (ps.failure)
        open.push_back(store::excursion_json(ps.failure->record, excursion_id(ps.failure->record),
                                             now.mono_ns));
  }
  // Outputs failing now (shared by the zones; each zone lists the ones its escalation uses).
  json failing = json::array();
  if (escalator_) {
    const auto* pol = settings_.outputs.policy_for(m.zone().id);
    for (const auto& [name, h] : escalator_->health()) {
      if (!h.failing) continue;
      bool used = false;
      if (pol)
        for (const auto* levels :
             {&pol->temperature, &pol->probe_failure, &pol->humidity, &pol->door_open})
          for (const auto& l : *levels)
            used = used || std::find(l.outputs.begin(), l.outputs.end(), name) != l.outputs.end();
      if (!used) continue;
      failing.push_back({{"output", name},
                         {"reason", h.reason},
                         {"failures", h.failures},
                         {"since", h.since ? json(rfc(h.since->wall_ms)) : json()}});
    }
  }
  const auto& t = m.temperature();
  json state{{"zone", m.zone().id},
              {"level", cc::to_string(z.level())},
              {"no_data", m.no_data()},
              {"high", cc::to_string(m.level(cc::Side::kHigh))},
              {"low", cc::to_string(m.level(cc::Side::kLow))},
              {"min_c", opt(m.zone().min_c)},
              {"max_c", opt(m.zone().max_c)},
              {"temperature",
               {{"high_c", opt(t.high_c)},
                {"high_probe", t.high_probe},
                {"low_c", opt(t.low_c)},
                {"low_probe", t.low_probe}}},
              {"probes", std::move(probes)},
              {"open_excursions", std::move(open)},
              {"mkt_24h_c", opt(m.mkt().last_24h_c(now.mono_ns))},
              {"mkt_30d_c", opt(m.mkt().last_30d_c(now.mono_ns))},
              {"mkt_24h_covered_s", m.mkt().day().covered_s(now.mono_ns)},
              {"updated_at", rfc(now.wall_ms)},
              {"clock_unsynchronized", now.clock_unsynchronized},
              {"output_failures", std::move(failing)},
              {"run", run_id_}};
  if (z.humidity) {
    const auto& h = *z.humidity;
    const auto& rh = h.temperature();
    state["humidity"] = {{"level", cc::to_string(h.level())},
                         {"min_rh", opt(h.zone().min_c)},
                         {"max_rh", opt(h.zone().max_c)},
                         {"high_rh", opt(rh.high_c)},
                         {"high_probe", rh.high_probe},
                         {"low_rh", opt(rh.low_c)},
                         {"low_probe", rh.low_probe}};
  }
  if (z.doors) {
    const auto& d = *z.doors;
    json open_doors = json::array();
    for (const auto& ps : d.probes())
      if (ps.state == cc::ProbeState::kOnline && ps.celsius && *ps.celsius > 0.5)
        open_doors.push_back(ps.spec.id);
    const auto& x = d.open_excursion(cc::Side::kHigh);
    state["doors"] = {{"level", cc::to_string(d.level())},
                      {"open", std::move(open_doors)},
                      {"open_since", x ? json(rfc(x->start.wall_ms)) : json()},
                      {"door_open_alarm_s", d.zone().alarm_delay_s}};
  }
  return state;
}

void ColdChain::escalate(const cc::Event& e, const std::string& xid) {
  if (!escalator_ || xid.empty()) return;
  switch (e.kind) {
    case cc::EventKind::kAlarm: {
      cc::AlarmInfo info;
      info.id = xid;
      info.zone = e.zone;
      info.type = e.excursion ? e.excursion->type
                  : e.cause == cc::AlarmCause::kProbeFailure ? cc::AlarmType::kProbeFailure
                                                             : cc::AlarmType::kTemperature;
      if (e.side) info.side = std::string(cc::to_string(*e.side));
      info.value_c = e.celsius;
      if (e.excursion && (info.type == cc::AlarmType::kTemperature ||
                          info.type == cc::AlarmType::kHumidity))
        info.limit_c = e.excursion->limit_c;  // °C, or %RH for humidity
      info.probe = e.probe;
      info.raised = e.at;
      escalator_->raise(info);
      break;
    }
    case cc::EventKind::kCleared:
      escalator_->clear(xid, e.at);
      break;
    case cc::EventKind::kAcknowledged:
      escalator_->acknowledge(xid, e.at);
      break;
    default:
      break;
  }
}

// Results of the actions started earlier (recorded, failures retried and raised as
// output_failure), then whatever escalation has due now.
void ColdChain::run_outputs(const cc::Instant& now) {
  if (!escalator_) return;
  auto results = hooks_.output_results ? hooks_.output_results() : std::vector<cc::OutputResult>{};
  if (!results.empty()) {
    std::vector<cc::OutputHealthChange> changes;
    for (const auto& r : results) {
      const auto& a = r.action;
      const std::string what = "alarm output " + a.output + ": " +
                               std::string(cc::to_string(a.event)) + " level " +
                               std::to_string(a.level) + " for " + a.alarm.id +
                               (a.attempt > 1 ? " (attempt " + std::to_string(a.attempt) + ")" : "");
      if (r.ok)
        log::info(what + " done");
      else
        log::warning(what + " FAILED: " + printable(r.reason, 300));
      if (auto c = escalator_->on_result(r, now)) changes.push_back(std::move(*c));
    }
    auto st = db_.transaction([&]() -> Status {
      for (const auto& r : results)
        if (auto s = store::record_output_result(db_, r, now.wall_ms); !s) return s;
      for (const auto& c : changes) {
        if (c.failing) {
          const auto id = "output_failure/" + c.output + "/" +
                          (hooks_.new_id ? hooks_.new_id() : run_id_ + std::to_string(now.mono_ns));
          if (auto s = store::raise_output_failure(db_, id, c.output, c.reason, now.wall_ms); !s)
            return s;
        } else if (auto s = store::clear_output_failure(db_, c.output, "output succeeded",
                                                       now.wall_ms);
                   !s) {
          return s;
        }
      }
      return {};
    });
    if (!st) {
      ++counters_.store_errors;
      log::error("cold chain: recording alarm output results: " + st.error().message);
    }
    for (const auto& c : changes) {
      state_dirty_ = true;
      if (c.failing)
        log::error("cold chain: output_failure alarm: output " + c.output + " failed: " +
                   printable(c.reason, 300));
      else
        log::info("cold chain: output_failure of output " + c.output + " cleared (it succeeded)");
    }
  }
  for (auto& a : escalator_->due(now)) {
    log::info("alarm output " + a.output + ": " + std::string(cc::to_string(a.event)) +
              " level " + std::to_string(a.level) + " for " + a.alarm.id +
              (a.repeat ? " (repeat " + std::to_string(a.repeat) + ")" : "") +
              (a.attempt > 1 ? " (retry, attempt " + std::to_string(a.attempt) + ")" : ""));
    if (hooks_.run_output) hooks_.run_output(std::move(a));
  }
}

void ColdChain::prune_step(const cc::Instant& now) {
  // A wall clock not yet synchronised could be years off: never delete by it.
  if (now.clock_unsynchronized) return;
  if (!pruning_) {
    if (next_prune_mono_ns_ && now.mono_ns < *next_prune_mono_ns_) return;
    pruning_ = true;
  }
  const auto& r = settings_.retention;
  auto res = store::prune_coldchain(db_, now.wall_ms - r.readings_days * kMsPerDay,
                                    now.wall_ms - r.summary_days * kMsPerDay,
                                    r.excursion_margin_min * kMsPerMinute,
                                    settings_.prune_batch_rows);
  if (!res) {
    log::error("cold chain: retention: " + res.error().message);
    pruning_ = false;
    next_prune_mono_ns_ = now.mono_ns + 3600LL * cc::kNsPerSecond;
    return;
  }
  counters_.pruned_readings += res->readings;
  counters_.pruned_minutes += res->minutes;
  if (!res->more) {
    pruning_ = false;
    next_prune_mono_ns_ = now.mono_ns + kPruneEveryNs;
    if (counters_.pruned_readings || counters_.pruned_minutes)
      log::info("cold chain: retention removed " + std::to_string(counters_.pruned_readings) +
                " readings and " + std::to_string(counters_.pruned_minutes) +
                " minute summaries so far");
  }
}

void ColdChain::tick(const cc::Instant& now) {
  if (!started_) (void)start(now);
  last_ = now;
  if (clock_unsynchronized_ != now.clock_unsynchronized) {
    clock_unsynchronized_ = now.clock_unsynchronized;
    if (now.clock_unsynchronized)
      log::warning("cold chain: the wall clock is not synchronised (NTP): recorded times may be "
                   "wrong (durations use the monotonic clock; records carry "
                   "clock_unsynchronized)");
    else
      log::info("cold chain: the wall clock is synchronised");
  }
  for (auto& z : zones_) {
    for (auto* m : z->all()) {
      auto events = m->on_tick(now);
      if (!events.empty() || !m->closed_excursions().empty()) handle(*m, std::move(events), now);
    }
  }
  apply_acks(now);
  if (!pending_.empty() || !closed_.empty()) {
    if (auto st = commit_pending(now); !st) {
      ++counters_.store_errors;
      log::error("cold chain: storing zone events failed: " + st.error().message);
    }
  }
  run_outputs(now);
  // Minutes that ended without a later reading of their probe.
  const auto minute = minute_of(now.wall_ms);
  for (auto& [id, p] : probes_)
    if (p.count > 0 && p.minute_ms < minute) p.close_minute(minutes_, id);
  // The zone state after events, otherwise with a readings commit at least 10 s apart
  // (building it for every zone every second would cost more than the readings themselves);
  // a commit only when there is something to write (no fsync per idle second: flash wears).
  // Readings every readings_commit_s (each commit rewrites the same index pages: flash wear),
  // or at once with a zone's events; the periodic zone state goes with a readings commit.
  const bool readings_due =
      now.mono_ns - last_readings_mono_ns_ >= settings_.readings_commit_s * cc::kNsPerSecond -
                                                  cc::kNsPerSecond / 2;
  const bool save_state =
      state_dirty_ || !state_saved_ ||
      (readings_due && now.mono_ns - last_state_mono_ns_ >= kStateEveryNs - cc::kNsPerSecond / 2);
  if (!save_state && (!readings_due || (buffer_.empty() && minutes_.empty()))) {
    prune_step(now);
    return;
  }
  auto st = db_.transaction([&]() -> Status {
    if (auto s = write_readings(); !s) return s;
    if (!save_state) return {};
    for (const auto& z : zones_)
      if (auto s = store::save_zone_state(db_, z->monitor.zone().id, zone_state(*z, now),
                                          now.wall_ms);
          !s)
        return s;
    return {};
  });
  if (st && save_state) {
    last_state_mono_ns_ = now.mono_ns;
    state_saved_ = true;
    state_dirty_ = false;
  }
  if (!st) {
    ++counters_.store_errors;
    log::error("cold chain: storing readings failed (kept for the next commit): " +
               st.error().message);
  } else {
    ++counters_.flushes;
    buffer_.clear();
    minutes_.clear();
    last_readings_mono_ns_ = now.mono_ns;
  }
  prune_step(now);
}

}  // namespace depot::app
