#include "app/scan_intake.hpp"

#include <boost/asio/post.hpp>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "store/rejects.hpp"

namespace depot::app {

ScanIntake::ScanIntake(boost::asio::io_context& io, const std::vector<ScannerConfig>& scanners,
                       const Catalog& catalog, store::Database& db, store::Ledger& ledger,
                       store::GroupCommit& commits, std::map<std::string, std::int64_t> sku_limits)
    : io_(io),
      catalog_(catalog),
      db_(db),
      ledger_(ledger),
      commits_(commits),
      config_(scanners),
      sku_limits_(std::move(sku_limits)),
      storm_timer_(io) {
  for (const auto& s : scanners)
    stations_.emplace(std::make_pair(s.id, std::uint64_t{0}),
                      ScanStation(s.role, s.double_read_ms));
}

const ScannerConfig* ScanIntake::config_of(const std::string& scanner_id) const {
  for (const auto& s : config_)
    if (s.id == scanner_id) return &s;
  return nullptr;
}

void ScanIntake::start() {
  for (const auto& s : config_) {
    std::string id = s.id;
    drivers::ScanEvents events{
        [this, id](std::string data) { on_scan(id, data); },
        [this, id](std::string data, std::string reason) {
          ++counters_.scans;
          ++per_scanner_[id].scans;
          reject(id, data, reason, mono_now_ns(), wall_now());
        },
        [id](bool is_error, std::string message) {
          // An unplugged device fails its reopen every few seconds, and a TCP scanner's clients
          // can come and go by the thousand (a flood, a roaming handheld): rate limit both per
          // scanner (the suppressed lines are counted in the log). Only those: a device's
          // "opened (grabbed)" and a listener's "listening on" always pass.
          if (is_error)
            log::write_limited(log::Level::kWarning, "scanner " + id,
                               "scanner " + id + ": " + message);
          else if (message.rfind("client ", 0) == 0)
            log::write_limited(log::Level::kInfo, "scanner " + id + " clients",
                               "scanner " + id + ": " + message);
          else
            log::info("scanner " + id + ": " + message);
        },
        [this, id](std::uint64_t client, std::string data) { on_scan(id, data, client); },
        [this, id](std::uint64_t client) { client_closed(id, client); }};
    drivers_.push_back(drivers::make_scanner(io_, s, std::move(events)));
    drivers_.back()->start();
    log::info("scanner " + id + ": " + std::string(driver_name(s)) + ", role " +
              std::string(to_string(s.role)));
  }
}

void ScanIntake::stop() {
  for (auto& d : drivers_) d->stop();
  storm_timer_.cancel();
  flush_storms();
}

std::vector<std::pair<std::string, drivers::ScannerHealth>> ScanIntake::health() const {
  std::vector<std::pair<std::string, drivers::ScannerHealth>> out;
  for (std::size_t i = 0; i < drivers_.size() && i < config_.size(); ++i)
    out.emplace_back(config_[i].id, drivers_[i]->health());
  return out;
}

std::string ScanIntake::problems() const {
  std::string out;
  for (const auto& [id, h] : health()) {
    std::string line;
    if (!h.ok) line = "scanner " + id + " DOWN: " + h.problem;
    if (h.refused)
      line += (line.empty() ? "scanner " + id + ": " : "; ") + std::to_string(h.refused) +
              " connections refused";
    if (!line.empty()) out += (out.empty() ? "" : "; ") + line;
  }
  return out;
}

nlohmann::json ScanIntake::health_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [id, h] : health()) {
    nlohmann::json s{{"ok", h.ok}};
    if (!h.ok) s["problem"] = h.problem;
    const auto* c = config_of(id);
    if (c && std::holds_alternative<TcpSettings>(c->driver)) {
      s["clients"] = h.clients;
      s["refused"] = h.refused;
      s["evicted"] = h.evicted;
      s["timed_out"] = h.timed_out;
    }
    j[id] = std::move(s);
  }
  return j;
}

void ScanIntake::client_closed(const std::string& scanner_id, std::uint64_t client) {
  if (client) stations_.erase(std::make_pair(scanner_id, client));
}

void ScanIntake::on_scan(const std::string& scanner_id, const std::string& data,
                         std::uint64_t client) {
  ++counters_.scans;
  ++per_scanner_[scanner_id].scans;
  const auto mono = mono_now_ns();
  const auto wall = wall_now();
  const int year = std::stoi(wall.substr(0, 4));
  const auto* cfg = config_of(scanner_id);
  auto key = std::make_pair(scanner_id, client);
  auto it = stations_.find(key);
  if (it == stations_.end()) {
    if (!cfg) return;
    it = stations_.emplace(key, ScanStation(cfg->role, cfg->double_read_ms)).first;
  }
  auto& station = it->second;
  auto decision = station.on_scan(catalog_, data, mono, year);

  if (auto* p = std::get_if<ScanPost>(&decision)) {
    // The absurd is refused before it moves stock: a (30)99999999 on a pick station.
    auto lim = sku_limits_.find(p->item.sku);
    const std::int64_t max = lim != sku_limits_.end() ? lim->second
                             : cfg                    ? cfg->max_qty_per_scan
                                                      : 10000;
    if (p->item.quantity > max) {
      reject(scanner_id, data,
             "quantity " + std::to_string(p->item.quantity) + " of " + p->item.sku +
                 " is more than one scan may move (max_qty_per_scan " + std::to_string(max) +
                 (lim != sku_limits_.end() ? " for the SKU" : " for the scanner") + ")",
             mono, wall);
      return;
    }
    MovementRequest m;
    m.id = new_id();
    m.sku = p->item.sku;
    m.kind = p->kind;
    m.quantity = p->item.quantity;
    m.source = scanner_id;
    m.lot = p->item.lot;
    m.expiry = p->item.expiry;
    m.serial = p->item.serial;
    m.order_id = p->order_id;
    m.wall_time = wall;
    m.mono_ns = mono;
    station.recorded(m.id);
    post(scanner_id, std::move(m));
  } else if (auto* u = std::get_if<ScanUndo>(&decision)) {
    commits_.flush();  // the movement to undo may still be in the open batch
    auto found = ledger_.find(u->movement_id);
    if (!found || !*found) {
      reject(scanner_id, data, "UNDO: movement " + u->movement_id + " not found", mono, wall);
      return;
    }
    const auto& orig = **found;
    if (orig.qty == 0) {
      ++counters_.controls;
      log::info("scanner " + scanner_id + ": UNDO of " + orig.id + " changes nothing (it moved 0)");
      return;
    }
    MovementRequest m;
    m.id = "undo-" + orig.id;  // undoing the same movement twice changes stock once
    m.sku = orig.sku;
    m.kind = MovementKind::kAdjust;
    m.quantity = -orig.qty;
    m.source = scanner_id;
    m.lot = orig.lot;
    m.wall_time = wall;
    m.mono_ns = mono;
    m.reverses = orig.id;
    post(scanner_id, std::move(m));
  } else if (auto* c = std::get_if<ScanControl>(&decision)) {
    ++counters_.controls;
    log::info("scanner " + scanner_id + ": " + c->message);
  } else {
    reject(scanner_id, data, std::get<ScanReject>(decision).reason, mono, wall);
  }
}

void ScanIntake::post(const std::string& scanner_id, MovementRequest m) {
  auto summary = std::string(to_string(m.kind)) + " " + m.sku;
  auto lost_as = scanner_id + ": " + summary + " x" + std::to_string(m.quantity) +
                 (m.lot ? " lot " + *m.lot : std::string()) + " at " + m.wall_time;
  auto order = m.order_id.value_or(""), sku = m.sku;
  commits_.submit(std::move(m), [this, scanner_id, summary, lost_as, order,
                                 sku](const Expected<store::PostResult>& r) {
    if (!r) {
      ++counters_.not_recorded;
      lost(lost_as, r.error().message);
      return;
    }
    if (r->outcome == store::PostOutcome::kRejected) {
      ++counters_.rejected;
      ++per_scanner_[scanner_id].rejected;
      log::warning("scanner " + scanner_id + ": " + summary + " rejected: " + r->error);
      return;
    }
    if (r->outcome == store::PostOutcome::kDuplicate) return;
    ++counters_.posted;
    ++per_scanner_[scanner_id].posted;
    std::string line = "scanner " + scanner_id + ": " + summary + " " +
                       (r->posting.on_hand_delta >= 0 ? "+" : "") +
                       std::to_string(r->posting.on_hand_delta) + " -> on hand " +
                       std::to_string(r->after.on_hand);
    if (r->posting.negative) line += " (NEGATIVE: count the location)";
    if (r->posting.serial_repeat) line += " (SERIAL ALREADY PICKED)";
    if (r->posting.order_unmatched)
      line += " (ORDER " + order + " HAS NO OPEN LINE FOR " + sku +
              " HERE: nothing reserved was taken; check the order id)";
    const bool flagged =
        r->posting.negative || r->posting.serial_repeat || r->posting.order_unmatched;
    (flagged ? log::warning : log::info)(line);
  });
}

// Scans a failing database finally could not record: one log line per failed batch names
// them all (scanner, what, when), so the floor can rescan exactly those.
void ScanIntake::lost(std::string what, const std::string& why) {
  lost_.push_back(std::move(what));
  lost_why_ = why;
  if (lost_posted_) return;
  lost_posted_ = true;
  boost::asio::post(io_, [this] { flush_lost(); });
}

void ScanIntake::flush_lost() {
  lost_posted_ = false;
  if (lost_.empty()) return;
  {
    std::string list;
    const std::size_t shown = std::min<std::size_t>(lost_.size(), 50);
    for (std::size_t i = 0; i < shown; ++i) list += (i ? ", " : "") + lost_[i];
    if (lost_.size() > shown) list += ", and " + std::to_string(lost_.size() - shown) + " more";
    log::error(std::to_string(lost_.size()) + " scan(s) NOT recorded (" + lost_why_ +
               "); scan them again: " + list);
    lost_.clear();
  }
}

void ScanIntake::reject(const std::string& scanner_id, const std::string& data,
                        const std::string& reason, std::int64_t mono_ns, const std::string& wall) {
  ++counters_.rejected;
  ++per_scanner_[scanner_id].rejected;
  store::Reject rj{0, scanner_id, escape_bytes(data), reason, wall, mono_ns};
  // A storm (junk at a wrong baud rate, a flood on a TCP port) is counted, not stored row by
  // row: the first max_rejects_per_s of each second are rows, the rest one row with a count.
  const auto* cfg = config_of(scanner_id);
  const std::int64_t per_s = counts_only_ ? 0 : cfg ? cfg->max_rejects_per_s : 20;
  auto& s = storms_[scanner_id];
  if (mono_ns - s.window_start_ns >= 1'000'000'000) {
    close_storm(scanner_id, s);
    s.window_start_ns = mono_ns;
    s.in_window = 0;
  }
  if (++s.in_window > per_s) {
    ++s.suppressed;
    ++counters_.storm_suppressed;
    s.last_raw = rj.raw;
    s.last_reason = reason;
    s.last_wall = wall;
    s.last_mono = mono_ns;
    arm_storms();
    return;
  }
  // Every reject is in the rejects table; the log is rate limited per scanner, so a scanner
  // sending noise (a wrong baud rate) cannot flood the journal.
  log::write_limited(log::Level::kWarning, "scanner " + scanner_id + " rejects",
                     "scanner " + scanner_id + ": rejected \"" + rj.raw + "\": " + reason);
  record(std::move(rj));
}

void ScanIntake::record(store::Reject rj) {
  auto scanner_id = rj.source;
  auto raw = rj.raw;
  auto count = rj.count;
  commits_.submit_reject(std::move(rj), [this, scanner_id, raw, count](const Status& st) {
    if (st) return;
    counters_.not_recorded += static_cast<std::uint64_t>(count);
    lost(scanner_id + ": the reject of \"" + raw + "\"" +
             (count > 1 ? " (and " + std::to_string(count - 1) + " like it)" : std::string()),
         st.error().message);
  });
}

void ScanIntake::close_storm(const std::string& scanner_id, Storm& s) {
  if (s.suppressed == 0) return;
  store::Reject rj{0,
                   scanner_id,
                   s.last_raw,
                   "reject storm: " + std::to_string(s.suppressed) +
                       " more rejects within a second beyond max_rejects_per_s, counted here (the "
                       "last: " +
                       s.last_reason + ")",
                   s.last_wall,
                   s.last_mono};
  rj.count = s.suppressed;
  log::write_limited(log::Level::kWarning, "scanner " + scanner_id + " rejects",
                     "scanner " + scanner_id + ": " + rj.reason);
  s.suppressed = 0;
  record(std::move(rj));
}

void ScanIntake::arm_storms() {
  if (storm_timer_armed_) return;
  storm_timer_armed_ = true;
  storm_timer_.expires_after(std::chrono::milliseconds(1000));
  storm_timer_.async_wait([this](const boost::system::error_code& ec) {
    storm_timer_armed_ = false;
    if (ec) return;
    const auto now = mono_now_ns();
    bool open = false;
    for (auto& [id, s] : storms_) {
      if (s.suppressed == 0) continue;
      if (now - s.window_start_ns >= 1'000'000'000)
        close_storm(id, s);
      else
        open = true;
    }
    if (open) arm_storms();
  });
}

void ScanIntake::set_counts_only(bool on) {
  if (on == counts_only_) return;
  counts_only_ = on;
  if (on)
    log::warning(
        "scan rejects: the outbox is over its disk budget; rejects are recorded as one "
        "count per scanner per second until it is not");
  else
    log::info("scan rejects: back within the disk budget; each reject is recorded again");
}

void ScanIntake::flush_storms() {
  for (auto& [id, s] : storms_) close_storm(id, s);
}

}  // namespace depot::app
