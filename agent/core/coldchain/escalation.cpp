#include "core/coldchain/escalation.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace depot::coldchain {

namespace {
constexpr std::int64_t kNsPerMs = 1'000'000;
constexpr std::size_t kHistory = 256;  // finished alarms whose fired levels are remembered
}  // namespace

std::string_view to_string(OutputKind k) { return k == OutputKind::kModbus ? "modbus" : "exec"; }

std::string_view to_string(ResetOn r) {
  switch (r) {
    case ResetOn::kClear:
      return "clear";
    case ResetOn::kAck:
      return "ack";
    case ResetOn::kEither:
      return "either";
    case ResetOn::kBoth:
      return "both";
  }
  return "either";
}

std::string_view to_string(OutputEvent e) { return e == OutputEvent::kFire ? "fire" : "reset"; }

const EscalationPolicy* AlarmOutputs::policy_for(std::string_view zone) const {
  if (auto it = zone_policies.find(std::string(zone)); it != zone_policies.end())
    return &it->second;
  return fallback ? &*fallback : nullptr;
}

const OutputSpec* AlarmOutputs::output(std::string_view name) const {
  for (const auto& o : outputs)
    if (o.name == name) return &o;
  return nullptr;
}

Escalator::Escalator(AlarmOutputs config) : config_(std::move(config)) {}

void Escalator::raise(const AlarmInfo& alarm) {
  const auto* policy = config_.policy_for(alarm.zone);
  if (!policy || policy->levels(alarm.type).empty() || alarms_.count(alarm.id)) return;
  Tracked t;
  t.info = alarm;
  t.policy = policy;
  for (const auto& l : policy->levels(alarm.type)) {
    t.next_fire_ns.push_back(alarm.raised.mono_ns + l.after_ms * kNsPerMs);
    t.fired.push_back({});
  }
  alarms_.emplace(alarm.id, std::move(t));
}

void Escalator::acknowledge(std::string_view alarm_id, const Instant& at) {
  auto it = alarms_.find(alarm_id);
  if (it == alarms_.end() || it->second.acked) return;
  it->second.acked = at;
  it->second.stopped = true;
  maybe_finish(it->second, at, ready_);
}

void Escalator::clear(std::string_view alarm_id, const Instant& at) {
  auto it = alarms_.find(alarm_id);
  if (it == alarms_.end() || it->second.cleared) return;
  auto& t = it->second;
  t.cleared = at;
  // A cleared alarm that still wants a signature keeps escalating.
  if (t.policy->reset_on == ResetOn::kClear || t.policy->reset_on == ResetOn::kEither)
    t.stopped = true;
  maybe_finish(t, at, ready_);
}

bool Escalator::holders_other_than(std::string_view output, std::string_view alarm_id) const {
  for (const auto& [id, t] : alarms_)
    if (id != alarm_id && t.held.count(std::string(output))) return true;
  return false;
}

void Escalator::drop_retry(std::string_view output, std::string_view alarm_id) {
  std::erase_if(retries_, [&](const Retry& r) {
    return r.action.output == output && r.action.alarm.id == alarm_id;
  });
}

void Escalator::maybe_finish(Tracked& t, const Instant& at, std::vector<OutputAction>& out) {
  (void)at;
  bool reset = false;
  switch (t.policy->reset_on) {
    case ResetOn::kClear:
      reset = t.cleared.has_value();
      break;
    case ResetOn::kAck:
      reset = t.acked.has_value();
      break;
    case ResetOn::kEither:
      reset = t.cleared || t.acked;
      break;
    case ResetOn::kBoth:
      reset = t.cleared && t.acked;
      break;
  }
  if (!reset) return;
  const auto held = std::exchange(t.held, {});
  for (const auto& name : held) {
    drop_retry(name, t.info.id);
    OutputAction a;
    a.output = name;
    a.event = OutputEvent::kReset;
    a.alarm = t.info;
    a.level = t.top_level;
    // last_holder is decided when due() hands the reset out (another alarm may fire first).
    out.push_back(std::move(a));
  }
  if (!t.stopped) return;
  // Finished: remember what fired, forget the alarm.
  const std::string id = t.info.id;
  history_[id] = t.fired;
  history_order_.push_back(id);
  while (history_order_.size() > kHistory) {
    history_.erase(history_order_.front());
    history_order_.pop_front();
  }
  alarms_.erase(id);
}

std::vector<OutputAction> Escalator::start_resets(const Instant& at) const {
  std::vector<OutputAction> out;
  for (const auto& o : config_.outputs) {
    if (o.kind != OutputKind::kModbus) continue;
    OutputAction a;
    a.output = o.name;
    a.event = OutputEvent::kReset;
    a.alarm.id = "agent-start";
    a.alarm.raised = at;
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<OutputAction> Escalator::due(const Instant& now) {
  std::vector<std::pair<std::int64_t, OutputAction>> timed;
  // Fires first: an output they take is held before any reset below is judged.
  for (auto& [id, t] : alarms_) {
    if (t.stopped) continue;
    const auto& levels = t.policy->levels(t.info.type);
    for (std::size_t k = 0; k < levels.size(); ++k) {
      auto& next = t.next_fire_ns[k];
      if (next < 0 || next > now.mono_ns) continue;
      const auto& level = levels[k];
      auto& f = t.fired[k];
      f.level = static_cast<int>(k) + 1;
      const Instant at{next, now.wall_ms - (now.mono_ns - next) / kNsPerMs,
                       now.clock_unsynchronized};
      if (f.times == 0) f.first = at;
      f.last = at;
      t.top_level = std::max(t.top_level, f.level);
      for (const auto& name : level.outputs) {
        // A newer firing replaces a pending retry; for a shared coil it also voids every
        // pending reset of that coil, waiting to be handed out or to be retried (it would
        // switch the coil off under this alarm).
        drop_retry(name, id);
        const auto* spec = config_.output(name);
        if (spec && spec->kind == OutputKind::kModbus) {
          auto is_reset = [&](const OutputAction& a) {
            return a.output == name && a.event == OutputEvent::kReset;
          };
          std::erase_if(retries_, [&](const Retry& r) { return is_reset(r.action); });
          std::erase_if(ready_, is_reset);
        }
        t.held.insert(name);
        OutputAction a;
        a.output = name;
        a.event = OutputEvent::kFire;
        a.alarm = t.info;
        a.level = f.level;
        a.repeat = f.times;
        timed.emplace_back(next, std::move(a));
      }
      ++f.times;
      if (level.repeat_ms > 0) {
        // Fire once for a span of missed repeats (a late tick), then keep the rhythm.
        const std::int64_t step = level.repeat_ms * kNsPerMs;
        next += step * ((now.mono_ns - next) / step + 1);
      } else {
        next = -1;
      }
    }
  }
  for (auto& a : std::exchange(ready_, {})) timed.emplace_back(now.mono_ns, std::move(a));
  for (auto it = retries_.begin(); it != retries_.end();) {
    if (it->at_ns <= now.mono_ns) {
      timed.emplace_back(it->at_ns, std::move(it->action));
      it = retries_.erase(it);
    } else {
      ++it;
    }
  }
  // A reset says whether it leaves the output free as of now, when it is handed out (with the
  // fires above counted), not when it was decided or first tried.
  for (auto& [at, a] : timed)
    if (a.event == OutputEvent::kReset) a.last_holder = !holders_other_than(a.output, a.alarm.id);
  std::stable_sort(timed.begin(), timed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<OutputAction> out;
  out.reserve(timed.size());
  for (auto& [at, a] : timed) out.push_back(std::move(a));
  return out;
}

std::optional<OutputHealthChange> Escalator::on_result(const OutputResult& r, const Instant& now) {
  auto& h = health_[r.action.output];
  std::optional<OutputHealthChange> change;
  if (r.ok) {
    h.failures = 0;
    if (h.failing) {
      h.failing = false;
      h.since.reset();
      change = OutputHealthChange{r.action.output, false, "", now};
    }
    h.reason.clear();
    return change;
  }
  ++h.failures;
  h.reason = r.reason;
  if (!h.failing) {
    h.failing = true;
    h.since = now;
    change = OutputHealthChange{r.action.output, true, r.reason, now};
  }
  const auto* spec = config_.output(r.action.output);
  if (!spec) return change;
  const bool coil = spec->kind == OutputKind::kModbus;
  if (!coil && r.action.attempt >= spec->attempts) return change;
  // A fire retry is void once the alarm's outputs were reset (or the alarm is gone).
  if (r.action.event == OutputEvent::kFire) {
    auto it = alarms_.find(r.action.alarm.id);
    if (it == alarms_.end() || !it->second.held.count(r.action.output)) return change;
  }
  // Backoff: backoff_s * 2^(attempt-1), at most max_backoff_s.
  std::int64_t delay_s = spec->backoff_s;
  for (int i = 1; i < r.action.attempt && delay_s < spec->max_backoff_s; ++i) delay_s *= 2;
  delay_s = std::min(delay_s, spec->max_backoff_s);
  drop_retry(r.action.output, r.action.alarm.id);
  Retry retry{r.action, now.mono_ns + delay_s * 1'000'000'000};
  ++retry.action.attempt;
  retries_.push_back(std::move(retry));
  return change;
}

std::optional<std::int64_t> Escalator::next_due_ns() const {
  std::optional<std::int64_t> best;
  auto take = [&](std::int64_t v) {
    if (!best || v < *best) best = v;
  };
  if (!ready_.empty()) take(std::numeric_limits<std::int64_t>::min());
  for (const auto& [id, t] : alarms_) {
    if (t.stopped) continue;
    for (auto n : t.next_fire_ns)
      if (n >= 0) take(n);
  }
  for (const auto& r : retries_) take(r.at_ns);
  return best;
}

std::vector<FiredLevel> Escalator::fired(std::string_view alarm_id) const {
  std::vector<FiredLevel> out;
  const std::vector<FiredLevel>* src = nullptr;
  if (auto it = alarms_.find(alarm_id); it != alarms_.end())
    src = &it->second.fired;
  else if (auto h = history_.find(alarm_id); h != history_.end())
    src = &h->second;
  if (src)
    for (const auto& f : *src)
      if (f.times > 0) out.push_back(f);
  return out;
}

}  // namespace depot::coldchain
