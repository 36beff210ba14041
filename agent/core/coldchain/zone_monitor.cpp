#include "core/coldchain/zone_monitor.hpp"

#include <algorithm>
#include <cstdint>

namespace depot::coldchain {
namespace {

// Comparisons of temperatures against limits tolerate float noise (7.9 - 8 != -0.1 exactly).
constexpr double kEpsilon = 1e-9;
// The finest step at which a cumulative budget is re-checked between two calls.
constexpr std::int64_t kCumulativeStepNs = kNsPerSecond;

std::int64_t max_offline_ns(const std::vector<ProbeSpec>& probes) {
  std::int64_t s = 60;
  for (const auto& p : probes) s = std::max(s, p.offline_after_s);
  return s * kNsPerSecond;
}

}  // namespace

std::string_view to_string(Level l) {
  switch (l) {
    case Level::kNormal:
      return "normal";
    case Level::kWarning:
      return "warning";
    case Level::kAlarm:
      return "alarm";
  }
  return "normal";
}

std::string_view to_string(EventKind k) {
  switch (k) {
    case EventKind::kWarning:
      return "warning";
    case EventKind::kWarningCleared:
      return "warning_cleared";
    case EventKind::kAlarm:
      return "alarm";
    case EventKind::kAlarmRepeat:
      return "alarm_repeat";
    case EventKind::kCleared:
      return "cleared";
    case EventKind::kProbeOffline:
      return "probe_offline";
    case EventKind::kProbeOnline:
      return "probe_online";
    case EventKind::kAcknowledged:
      return "acknowledged";
  }
  return "warning";
}

std::string_view to_string(ProbeState s) {
  switch (s) {
    case ProbeState::kAwaiting:
      return "awaiting";
    case ProbeState::kOnline:
      return "online";
    case ProbeState::kOffline:
      return "offline";
  }
  return "awaiting";
}

ZoneMonitor::ZoneMonitor(Zone zone, std::vector<ProbeSpec> probes, AlarmType type)
    : zone_(std::move(zone)), type_(type), mkt_(max_offline_ns(probes)) {
  for (auto& spec : probes) {
    ProbeStatus st;
    st.spec = std::move(spec);
    probes_.push_back(std::move(st));
  }
  high_.side = Side::kHigh;
  high_.limit = zone_.max_c;
  low_.side = Side::kLow;
  low_.limit = zone_.min_c;
}

Level ZoneMonitor::level() const {
  Level l = std::max(high_.level, low_.level);
  for (const auto& p : probes_)
    if (p.failure) l = Level::kAlarm;
  return l;
}

bool ZoneMonitor::no_data() const {
  return !probes_.empty() && std::all_of(probes_.begin(), probes_.end(), [](const ProbeStatus& p) {
           return p.state == ProbeState::kOffline;
         });
}

const ProbeStatus* ZoneMonitor::probe(std::string_view id) const {
  for (const auto& p : probes_)
    if (p.spec.id == id) return &p;
  return nullptr;
}

std::vector<Event> ZoneMonitor::on_reading(const Reading& reading) {
  auto it = std::find_if(probes_.begin(), probes_.end(),
                         [&](const ProbeStatus& p) { return p.spec.id == reading.probe; });
  if (it == probes_.end()) {
    ++foreign_readings_;
    return {};
  }
  if (started_ && reading.mono_ns < now_ns_) {
    ++it->counts.out_of_order;
    return {};
  }
  return run_until(reading.at(), &reading);
}

std::vector<Event> ZoneMonitor::on_tick(const Instant& now) {
  if (started_ && now.mono_ns < now_ns_) return {};
  return run_until(now, nullptr);
}

Expected<std::vector<Event>> ZoneMonitor::acknowledge(std::string_view who,
                                                      std::string_view comment,
                                                      const Instant& now,
                                                      std::string_view root_cause,
                                                      std::optional<std::int64_t> raised_by_wall_ms) {
  if (who.empty()) return Error{"zone " + zone_.id + ": an acknowledgement must name who"};
  auto raised_later = [&](const Excursion& x) {
    const auto& at = x.alarm_at ? *x.alarm_at : x.start;
    return raised_by_wall_ms && at.wall_ms > *raised_by_wall_ms;
  };
  std::vector<Event> out;
  for (SideState* s : {&high_, &low_}) {
    if (s->level != Level::kAlarm || s->acknowledged || !s->excursion) continue;
    if (raised_later(*s->excursion)) continue;
    s->acknowledged = true;
    s->excursion->acknowledgement =
        Acknowledgement{std::string(who), std::string(comment), now, std::string(root_cause)};
    Event e = side_event(EventKind::kAcknowledged, *s, now);
    e.who = std::string(who);
    e.comment = std::string(comment);
    out.push_back(std::move(e));
  }
  for (auto& p : probes_) {
    if (!p.failure || p.failure->acknowledged) continue;
    if (raised_later(p.failure->record)) continue;
    p.failure->acknowledged = true;
    p.failure->record.acknowledgement =
        Acknowledgement{std::string(who), std::string(comment), now, std::string(root_cause)};
    Event e = probe_event(EventKind::kAcknowledged, p, now);
    e.who = std::string(who);
    e.comment = std::string(comment);
    out.push_back(std::move(e));
  }
  if (out.empty()) return Error{"zone " + zone_.id + std::string(kNothingToAck)};
  return out;
}

void ZoneMonitor::carry_over(Side side, std::int64_t out_of_range_ns, bool alarmed) {
  if (started_ || !state(side).limit) return;
  state(side).carried = std::make_pair(std::max<std::int64_t>(out_of_range_ns, 0), alarmed);
}

double ZoneMonitor::cumulative_out_s(Side side) const {
  return static_cast<double>(cumulative_ns(state(side), now_ns_)) / 1e9;
}

// --- time ---------------------------------------------------------------------------------

std::vector<Event> ZoneMonitor::run_until(const Instant& now, const Reading* reading) {
  std::vector<Event> out;
  if (!started_) {
    started_ = true;
    start_ns_ = now_ns_ = now.mono_ns;
  }
  // Walk from the monitor's time to `now`, stopping at every instant something falls due.
  do {
    const std::int64_t next = now_ns_ < now.mono_ns ? next_due_ns(now.mono_ns) : now.mono_ns;
    integrate(next);
    now_ns_ = next;
    Instant at = now;
    if (next != now.mono_ns) {
      at.mono_ns = next;
      at.wall_ms = now.wall_ms - (now.mono_ns - next) / 1'000'000;
    }
    // What fell due under the held temperature (an alarm delay) comes before the probes
    // whose offline timeout ran out at the same instant.
    evaluate(at, out);
    mark_offline(at, out);
    recompute_temperature();
    evaluate(at, out);
    repeat_alarms(at, out);
    if (temperature_.high_c) {
      mkt_.add(*temperature_.high_c, at.mono_ns);
    } else {
      mkt_.gap(at.mono_ns);
    }
  } while (now_ns_ < now.mono_ns);

  if (reading) {
    take_reading(*reading, now, out);
    recompute_temperature();
    evaluate(now, out);
    if (temperature_.high_c) {
      mkt_.add(*temperature_.high_c, now.mono_ns);
    } else {
      mkt_.gap(now.mono_ns);
    }
  }
  return out;
}

std::int64_t ZoneMonitor::next_due_ns(std::int64_t until_ns) const {
  std::int64_t best = until_ns;
  auto consider = [&](std::int64_t t) {
    if (t > now_ns_ && t < best) best = t;
  };
  // A repeat is due every repeat_s, each stamped at its time; but over a stretch of more than
  // kMaxRepeatStops periods (a logger file's gap of months) only the last one due before
  // `until_ns` is a stop: one reminder that counts the ones it stands for, not one event per
  // period (a 40-year gap once made 700,000).
  constexpr std::int64_t kMaxRepeatStops = 64;
  const std::int64_t period = zone_.repeat_s * kNsPerSecond;
  auto repeat_due = [&](std::int64_t last) {
    std::int64_t t = last + period;
    if (t < until_ns && (until_ns - t) / period >= kMaxRepeatStops)
      t += (until_ns - t) / period * period;
    return t;
  };
  for (const auto& p : probes_) {
    if (p.failure && !p.failure->acknowledged && zone_.repeat_s > 0)
      consider(repeat_due(p.failure->last_alert_ns));
    if (p.state == ProbeState::kOffline) continue;
    const std::int64_t since = p.state == ProbeState::kOnline ? p.last_good_mono_ns : start_ns_;
    consider(since + p.spec.offline_after_s * kNsPerSecond);
  }
  for (const SideState* s : {&high_, &low_}) {
    if (!s->limit) continue;
    if (s->level == Level::kAlarm) {
      if (!s->acknowledged && zone_.repeat_s > 0) consider(repeat_due(s->last_alert_ns));
      continue;
    }
    const auto x = temperature_.at(s->side);
    if (!s->excursion || !x || degrees_beyond(s->side, *s->limit, *x) <= kEpsilon) continue;
    consider(now_ns_ + zone_.alarm_delay_s * kNsPerSecond - s->run_ns);
    if (zone_.cumulative) {
      const std::int64_t left =
          zone_.cumulative->limit_s * kNsPerSecond - cumulative_ns(*s, now_ns_);
      consider(now_ns_ + std::max(left, kCumulativeStepNs));
    }
  }
  return best;
}

// The held zone temperature stands from the monitor's time to `to_ns`.
void ZoneMonitor::integrate(std::int64_t to_ns) {
  const std::int64_t dt = to_ns - now_ns_;
  if (dt <= 0) return;
  for (SideState* s : {&high_, &low_}) {
    const auto x = temperature_.at(s->side);
    if (!s->limit || !x || !s->excursion) continue;
    s->excursion->integrate(*x, dt);
    if (degrees_beyond(s->side, *s->limit, *x) <= kEpsilon) continue;
    s->run_ns += dt;
    if (!zone_.cumulative) continue;
    if (!s->out_spans.empty() && s->out_spans.back().second == now_ns_) {
      s->out_spans.back().second = to_ns;
    } else {
      s->out_spans.emplace_back(now_ns_, to_ns);
    }
    const std::int64_t from = to_ns - zone_.cumulative->window_s * kNsPerSecond;
    while (!s->out_spans.empty() && s->out_spans.front().second <= from) s->out_spans.pop_front();
  }
}

std::int64_t ZoneMonitor::cumulative_ns(const SideState& s, std::int64_t now_ns) const {
  if (!zone_.cumulative) return 0;
  const std::int64_t from = now_ns - zone_.cumulative->window_s * kNsPerSecond;
  std::int64_t sum = 0;
  for (const auto& [a, b] : s.out_spans) {
    const std::int64_t lo = std::max(a, from), hi = std::min(b, now_ns);
    if (hi > lo) sum += hi - lo;
  }
  return sum;
}

// --- probes -------------------------------------------------------------------------------

void ZoneMonitor::mark_offline(const Instant& at, std::vector<Event>& out) {
  for (auto& p : probes_) {
    if (p.state == ProbeState::kOffline) continue;
    const std::int64_t since = p.state == ProbeState::kOnline ? p.last_good_mono_ns : start_ns_;
    if (at.mono_ns - since < p.spec.offline_after_s * kNsPerSecond) continue;
    p.state = ProbeState::kOffline;
    p.celsius.reset();
    Event e;
    e.kind = EventKind::kProbeOffline;
    e.zone = zone_.id;
    e.at = at;
    e.probe = p.spec.id;
    out.push_back(std::move(e));
    raise_probe_failure(p, at, out);
  }
}

void ZoneMonitor::raise_probe_failure(ProbeStatus& p, const Instant& at, std::vector<Event>& out) {
  Excursion x;
  x.seq = next_seq_++;
  x.type = AlarmType::kProbeFailure;
  x.zone = zone_.id;
  x.start = at;
  x.peak_probe = p.spec.id;
  x.alarmed = true;
  x.alarm_at = at;
  x.cause = AlarmCause::kProbeFailure;
  p.failure = ProbeFailure{std::move(x), false, at.mono_ns, 0};
  Event e = probe_event(EventKind::kAlarm, p, at);
  e.cause = AlarmCause::kProbeFailure;
  out.push_back(std::move(e));
}

void ZoneMonitor::clear_probe_failure(ProbeStatus& p, const Instant& at, std::vector<Event>& out) {
  if (!p.failure) return;
  p.failure->record.end = at;
  Event e = probe_event(EventKind::kCleared, p, at);
  closed_.push_back(std::move(p.failure->record));
  p.failure.reset();
  e.excursion = closed_.back();
  out.push_back(std::move(e));
}

Event ZoneMonitor::probe_event(EventKind kind, const ProbeStatus& p, const Instant& at) const {
  Event e;
  e.kind = kind;
  e.zone = zone_.id;
  e.at = at;
  e.probe = p.spec.id;
  if (p.failure) e.excursion = p.failure->record;
  return e;
}

void ZoneMonitor::take_reading(const Reading& r, const Instant& at, std::vector<Event>& out) {
  auto it = std::find_if(probes_.begin(), probes_.end(),
                         [&](const ProbeStatus& p) { return p.spec.id == r.probe; });
  if (it == probes_.end()) return;
  ProbeStatus& p = *it;
  const bool was_offline = p.state == ProbeState::kOffline;
  if (was_offline) ++p.counts.while_offline;
  switch (r.quality) {
    case Quality::kGood:
      ++p.counts.good;
      break;
    case Quality::kImplausible:
      ++p.counts.implausible;
      break;
    case Quality::kCrcFailed:
      ++p.counts.crc_failed;
      break;
    case Quality::kNoData:
      ++p.counts.no_data;
      break;
  }
  if (r.quality != Quality::kGood) {
    p.last_rejection = r.reason;
    return;
  }
  p.last_good_mono_ns = r.mono_ns;
  p.state = ProbeState::kOnline;
  if (!was_offline) {
    p.celsius = r.celsius;
    return;
  }
  // The reading that brings an offline probe back is not used: it neither starts nor ends
  // anything. The probe's values count again from its next good reading.
  Event e;
  e.kind = EventKind::kProbeOnline;
  e.zone = zone_.id;
  e.at = at;
  e.probe = p.spec.id;
  e.celsius = r.celsius;
  out.push_back(std::move(e));
  clear_probe_failure(p, at, out);
}

void ZoneMonitor::recompute_temperature() {
  std::vector<ProbeTemperature> current;
  current.reserve(probes_.size());
  for (const auto& p : probes_) {
    if (p.state == ProbeState::kOnline && p.celsius) current.push_back({p.spec.id, *p.celsius});
  }
  temperature_ = combine_probes(zone_.combine, current);
}

bool ZoneMonitor::fully_observed() const {
  return std::all_of(probes_.begin(), probes_.end(), [](const ProbeStatus& p) {
    return p.state == ProbeState::kOnline && p.celsius.has_value();
  });
}

// --- the state machine --------------------------------------------------------------------

void ZoneMonitor::evaluate(const Instant& at, std::vector<Event>& out) {
  for (SideState* s : {&high_, &low_}) {
    if (s->limit) evaluate_side(*s, at, out);
  }
}

void ZoneMonitor::evaluate_side(SideState& s, const Instant& at, std::vector<Event>& out) {
  const auto x = temperature_.at(s.side);
  if (!x) return;  // unknown: nothing starts, nothing ends
  const std::string& probe = temperature_.probe(s.side);
  const double beyond = degrees_beyond(s.side, *s.limit, *x);

  if (beyond > kEpsilon) {  // out of range
    // A previous run's excursion (carry_over) continues in the first one of this run.
    const auto carried = std::exchange(s.carried, std::nullopt);
    if (!s.excursion) {
      Excursion e;
      e.seq = next_seq_++;
      e.type = type_;
      e.zone = zone_.id;
      e.side = s.side;
      e.limit_c = *s.limit;
      e.start = at;
      e.peak_c = *x;
      e.peak_probe = probe;
      s.excursion = std::move(e);
      s.run_ns = 0;
      if (carried) {
        const std::int64_t delay_ns = zone_.alarm_delay_s * kNsPerSecond;
        s.run_ns = carried->second ? delay_ns : std::min(carried->first, delay_ns);
      }
    } else {
      s.excursion->observe(*x, probe);
    }
    if (s.level == Level::kNormal) {
      s.level = Level::kWarning;
      out.push_back(side_event(EventKind::kWarning, s, at));
    }
    if (s.level != Level::kAlarm) {
      if (auto cause = alarm_due(s, at.mono_ns)) raise_alarm(s, *cause, at, out);
    }
    return;
  }

  // Within the limit. Ending anything needs every probe of the zone online: so does dropping
  // a previous run's excursion (a probe not heard from yet may still be beyond the limit).
  const bool observed = fully_observed();
  // A previous run's excursion is dropped once every probe has spoken or been given up on:
  // one not heard from yet may still be beyond the limit, while one that went offline (dead)
  // would keep it for ever, and a defrost hours later alarmed at once.
  if (std::none_of(probes_.begin(), probes_.end(), [](const ProbeStatus& p) {
        return p.state == ProbeState::kAwaiting ||
               (p.state == ProbeState::kOnline && !p.celsius.has_value());
      }))
    s.carried.reset();
  if (s.excursion) s.excursion->observe(*x, probe);
  if (s.level == Level::kAlarm) {
    if (observed && beyond <= -zone_.hysteresis_c + kEpsilon) {
      close_excursion(s, at);
      s.level = beyond <= -(zone_.warning_band_c + zone_.hysteresis_c) + kEpsilon ? Level::kNormal
                                                                                  : Level::kWarning;
      Event e = side_event(EventKind::kCleared, s, at);
      e.excursion = closed_.back();
      out.push_back(std::move(e));
    }
    return;
  }
  // Never alarmed: the alarm delay counts continuous time beyond the limit, so it restarts as
  // soon as the known temperature is back within the limit. The excursion record itself ends
  // only when every probe can vouch for it (a missing probe's corner may still be warm).
  if (s.excursion && observed) {
    close_excursion(s, at);
  } else if (s.excursion) {
    s.run_ns = 0;
  }
  if (s.level == Level::kNormal && beyond > -zone_.warning_band_c + kEpsilon) {
    s.level = Level::kWarning;
    out.push_back(side_event(EventKind::kWarning, s, at));
  } else if (s.level == Level::kWarning && observed && !s.excursion &&
             beyond <= -(zone_.warning_band_c + zone_.hysteresis_c) + kEpsilon) {
    s.level = Level::kNormal;
    out.push_back(side_event(EventKind::kWarningCleared, s, at));
  }
}

std::optional<AlarmCause> ZoneMonitor::alarm_due(const SideState& s, std::int64_t now_ns) const {
  if (!s.excursion) return std::nullopt;
  if (s.run_ns >= zone_.alarm_delay_s * kNsPerSecond) return AlarmCause::kContinuous;
  if (zone_.cumulative && cumulative_ns(s, now_ns) >= zone_.cumulative->limit_s * kNsPerSecond)
    return AlarmCause::kCumulative;
  return std::nullopt;
}

void ZoneMonitor::raise_alarm(SideState& s, AlarmCause cause, const Instant& at,
                              std::vector<Event>& out) {
  s.level = Level::kAlarm;
  s.acknowledged = false;
  s.last_alert_ns = at.mono_ns;
  s.repeats = 0;
  s.excursion->alarmed = true;
  s.excursion->alarm_at = at;
  s.excursion->cause = cause;
  Event e = side_event(EventKind::kAlarm, s, at);
  e.cause = cause;
  out.push_back(std::move(e));
}

void ZoneMonitor::repeat_alarms(const Instant& at, std::vector<Event>& out) {
  if (zone_.repeat_s <= 0) return;
  // Missed periods (a stretch without stops) are counted into the one reminder.
  const std::int64_t period = zone_.repeat_s * kNsPerSecond;
  for (auto& p : probes_) {
    if (!p.failure || p.failure->acknowledged) continue;
    const std::int64_t periods = (at.mono_ns - p.failure->last_alert_ns) / period;
    if (periods < 1) continue;
    p.failure->last_alert_ns = at.mono_ns;
    Event e = probe_event(EventKind::kAlarmRepeat, p, at);
    p.failure->repeats =
        static_cast<int>(std::min<std::int64_t>(p.failure->repeats + periods, INT32_MAX));
    e.repeat = p.failure->repeats;
    out.push_back(std::move(e));
  }
  for (SideState* s : {&high_, &low_}) {
    if (s->level != Level::kAlarm || s->acknowledged) continue;
    const std::int64_t periods = (at.mono_ns - s->last_alert_ns) / period;
    if (periods < 1) continue;
    s->last_alert_ns = at.mono_ns;
    Event e = side_event(EventKind::kAlarmRepeat, *s, at);
    s->repeats = static_cast<int>(std::min<std::int64_t>(s->repeats + periods, INT32_MAX));
    e.repeat = s->repeats;
    out.push_back(std::move(e));
  }
}

void ZoneMonitor::close_excursion(SideState& s, const Instant& at) {
  s.excursion->end = at;
  closed_.push_back(std::move(*s.excursion));
  s.excursion.reset();
  s.run_ns = 0;
}

Event ZoneMonitor::side_event(EventKind kind, const SideState& s, const Instant& at) const {
  Event e;
  e.kind = kind;
  e.zone = zone_.id;
  e.at = at;
  e.side = s.side;
  e.celsius = temperature_.at(s.side);
  e.probe = temperature_.probe(s.side);
  e.excursion = s.excursion;
  return e;
}

}  // namespace depot::coldchain
