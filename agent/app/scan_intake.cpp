#include "app/scan_intake.hpp"

#include "app/clock.hpp"
#include "app/log.hpp"
#include "store/rejects.hpp"

namespace depot::app {

ScanIntake::ScanIntake(boost::asio::io_context& io, const std::vector<ScannerConfig>& scanners,
                       const Catalog& catalog, store::Database& db, store::Ledger& ledger,
                       store::GroupCommit& commits)
    : io_(io), catalog_(catalog), db_(db), ledger_(ledger), commits_(commits), config_(scanners) {
  for (const auto& s : scanners) stations_.emplace(s.id, ScanStation(s.role, s.double_read_ms));
}

void ScanIntake::start() {
  for (const auto& s : config_) {
    std::string id = s.id;
    drivers::ScanEvents events{
        [this, id](std::string data) { on_scan(id, data); },
        [this, id](std::string data, std::string reason) {
          ++counters_.scans;
          reject(id, data, reason, mono_now_ns(), wall_now());
        },
        [id](bool is_error, std::string message) {
          // An unplugged device fails its reopen every few seconds: rate limit per scanner.
          if (is_error)
            log::write_limited(log::Level::kWarning, "scanner " + id,
                               "scanner " + id + ": " + message);
          else
            log::info("scanner " + id + ": " + message);
        }};
    drivers_.push_back(drivers::make_scanner(io_, s, std::move(events)));
    drivers_.back()->start();
    log::info("scanner " + id + ": " + std::string(driver_name(s)) + ", role " +
              std::string(to_string(s.role)));
  }
}

void ScanIntake::stop() {
  for (auto& d : drivers_) d->stop();
}

void ScanIntake::on_scan(const std::string& scanner_id, const std::string& data) {
  ++counters_.scans;
  const auto mono = mono_now_ns();
  const auto wall = wall_now();
  const int year = std::stoi(wall.substr(0, 4));
  auto& station = stations_.at(scanner_id);
  auto decision = station.on_scan(catalog_, data, mono, year);

  if (auto* p = std::get_if<ScanPost>(&decision)) {
    MovementRequest m;
    m.id = new_id();
    m.sku = p->item.sku;
    m.kind = p->kind;
    m.quantity = p->item.quantity;
    m.source = scanner_id;
    m.lot = p->item.lot;
    m.expiry = p->item.expiry;
    m.serial = p->item.serial;
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
  commits_.submit(std::move(m), [this, scanner_id, summary](const Expected<store::PostResult>& r) {
    if (!r) {
      log::error("scanner " + scanner_id + ": " + summary + " NOT recorded: " + r.error().message);
      return;
    }
    if (r->outcome == store::PostOutcome::kRejected) {
      ++counters_.rejected;
      log::warning("scanner " + scanner_id + ": " + summary + " rejected: " + r->error);
      return;
    }
    if (r->outcome == store::PostOutcome::kDuplicate) return;
    ++counters_.posted;
    std::string line = "scanner " + scanner_id + ": " + summary + " " +
                       (r->posting.on_hand_delta >= 0 ? "+" : "") +
                       std::to_string(r->posting.on_hand_delta) + " -> on hand " +
                       std::to_string(r->after.on_hand);
    if (r->posting.negative) line += " (NEGATIVE: count the location)";
    if (r->posting.serial_repeat) line += " (SERIAL ALREADY PICKED)";
    (r->posting.negative || r->posting.serial_repeat ? log::warning : log::info)(line);
  });
}

void ScanIntake::reject(const std::string& scanner_id, const std::string& data,
                        const std::string& reason, std::int64_t mono_ns, const std::string& wall) {
  ++counters_.rejected;
  store::Reject rj{0, scanner_id, escape_bytes(data), reason, wall, mono_ns};
  auto seq = store::record_reject(db_, rj);
  if (!seq) {
    log::error("scanner " + scanner_id + ": reject of \"" + rj.raw + "\" (" + reason +
               ") could not be stored: " + seq.error().message);
    return;
  }
  // Every reject is in the rejects table; the log is rate limited per scanner, so a scanner
  // sending noise (a wrong baud rate) cannot flood the journal.
  log::write_limited(log::Level::kWarning, "scanner " + scanner_id + " rejects",
                     "scanner " + scanner_id + ": rejected \"" + rj.raw + "\": " + reason);
}

}  // namespace depot::app
