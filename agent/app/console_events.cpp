#include "app/console_events.hpp"

#include <algorithm>

#include "base/clock.hpp"
#include "app/cold_chain.hpp"
#include "app/console.hpp"
#include "app/scan_intake.hpp"
#include "core/time.hpp"

namespace depot::app {

using nlohmann::json;

EventHub::EventHub(boost::asio::io_context& io, std::size_t max_clients,
                   std::chrono::milliseconds heartbeat)
    : timer_(io), max_clients_(max_clients), heartbeat_(heartbeat) {}

void EventHub::start() { arm(); }

void EventHub::stop() {
  stopped_ = true;
  timer_.cancel();
  for (auto& s : sinks_) s->close();
  sinks_.clear();
}

void EventHub::arm() {
  timer_.expires_after(heartbeat_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    for (auto& s : sinks_) s->push(": heartbeat\n\n");
    prune();
    arm();
  });
}

void EventHub::prune() {
  sinks_.erase(
      std::remove_if(sinks_.begin(), sinks_.end(), [](const auto& s) { return !s->open(); }),
      sinks_.end());
}

bool EventHub::full() {
  prune();
  return sinks_.size() >= max_clients_;
}

bool EventHub::add(std::shared_ptr<http::StreamSink> sink) {
  if (stopped_ || full()) {
    sink->close();
    return false;
  }
  sinks_.push_back(std::move(sink));
  return true;
}

std::size_t EventHub::clients() {
  prune();
  return sinks_.size();
}

void EventHub::publish(std::string_view event, const json& data) {
  prune();
  if (sinks_.empty()) return;
  std::string text = "event: " + std::string(event) +
                     "\ndata: " + data.dump(-1, ' ', false, json::error_handler_t::replace) +
                     "\n\n";
  for (auto& s : sinks_) s->push(text);
  prune();
}

json zone_event(const ConsoleSources& s, std::string_view zone, std::int64_t wall_ms) {
  const auto* mon = s.cold ? s.cold->monitor(zone) : nullptr;
  if (!mon) return json();
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(); };
  json probes = json::array();
  for (const auto& p : mon->probes())
    probes.push_back(
        {{"id", p.spec.id},
         {"state", coldchain::to_string(p.state)},
         {"celsius", opt(p.celsius)},
         {"last", {{"wall_ms", wall_ms}, {"at", timefmt::rfc3339_from_unix_ms(wall_ms)}}}});
  return {{"zone", std::string(zone)},       {"level", coldchain::to_string(mon->level())},
          {"no_data", mon->no_data()},       {"min_c", opt(mon->zone().min_c)},
          {"max_c", opt(mon->zone().max_c)}, {"probes", std::move(probes)}};
}

ConsoleWatcher::ConsoleWatcher(boost::asio::io_context& io, const ConsoleSources& sources,
                               std::shared_ptr<EventHub> hub)
    : timer_(io), s_(sources), hub_(std::move(hub)) {}

void ConsoleWatcher::start() { arm(); }

void ConsoleWatcher::arm() {
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    tick();
    arm();
  });
}

void ConsoleWatcher::tick() {
  if (!hub_ || hub_->clients() == 0) return;  // nobody listens: nothing to compute
  const auto now = timefmt::parse_rfc3339_ms(wall_now()).value_or(0);
  if (s_.cold && s_.config) {
    std::int64_t open = 0;
    for (const auto& z : s_.config->zones) {
      const auto* mon = s_.cold->monitor(z.id);
      if (!mon) continue;
      for (auto side : {coldchain::Side::kHigh, coldchain::Side::kLow})
        if (mon->open_excursion(side) && mon->level(side) == coldchain::Level::kAlarm) ++open;
      for (const auto& p : mon->probes()) open += p.failure ? 1 : 0;
      auto ev = zone_event(s_, z.id, now);
      auto print = ev["level"].dump();
      for (const auto& p : ev["probes"]) print += p["state"].dump() + p["celsius"].dump();
      auto& quiet = zone_quiet_[z.id];
      if (print != zone_print_[z.id] || ++quiet >= 10) {
        zone_print_[z.id] = print;
        quiet = 0;
        hub_->publish("zone", ev);
      }
    }
    if (open != open_alarms_) {
      if (open_alarms_ >= 0) hub_->publish("alarm", {{"open", open}});
      open_alarms_ = open;
    }
  }
  if (s_.scans) {
    std::uint64_t posted = 0;
    for (const auto& [id, c] : s_.scans->per_scanner()) posted += c.posted;
    if (posted != posted_) {
      hub_->publish("stock", {{"movements", posted}});
      posted_ = posted;
    }
  }
}

}  // namespace depot::app
