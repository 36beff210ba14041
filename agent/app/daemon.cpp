#include "app/daemon.hpp"

#include <MQTTAsync.h>
#include <malloc.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "base/clock.hpp"
#include "app/background_check.hpp"
#include "app/cold_chain.hpp"
#include "app/console.hpp"
#include "app/sign_worker.hpp"
#include "base/log.hpp"
#include "base/resident.hpp"
#include "app/notify.hpp"
#include "app/replenishment.hpp"
#include "app/scan_intake.hpp"
#include "app/store_access.hpp"
#include "output/alarm_output_runner.hpp"
#include "sensor/sensor.hpp"
#include "core/json_parse.hpp"
#include "store/audit.hpp"
#include "core/time.hpp"
#include "http/server.hpp"
#include "store/group_commit.hpp"
#include "store/ledger.hpp"
#include "store/outbox.hpp"
#include "sync/cloud_sync.hpp"

namespace depot::app {
namespace {

// The one guard for every handler on the loop: an exception that escapes a handler (a bug, or
// a third-party throw not converted at its adapter) is logged with its text and the loop goes
// on with the next handler. The process never aborts on a bad record; the work item's own
// adapter decides whether it is retried or recorded as failed.
void run_guarded(boost::asio::io_context& io) {
  for (std::uint64_t escaped = 0;; ++escaped) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      log::error("internal error: a handler on the event loop threw (" +
                 std::to_string(escaped + 1) + " so far), continuing: " + printable(e.what()));
    } catch (...) {
      log::error("internal error: a handler on the event loop threw a non-standard exception (" +
                 std::to_string(escaped + 1) + " so far), continuing");
    }
  }
}

}  // namespace

int run_daemon(LoadedConfig loaded) {
  // The agent runs for months in a few MB (docs/performance.md, "Footprint").
  tune_allocator();
  // Paho initialises OpenSSL (configuration, providers, error strings: some 3 MB resident for
  // the agent's lifetime) when it creates its first client, unless told not to. Without TLS
  // on the cloud link nothing uses OpenSSL (MQTT probes have no TLS). Once per process, before
  // any Paho client exists: global_init also re-initialises Paho's own locks.
  MQTTAsync_init_options paho = MQTTAsync_init_options_initializer;
  paho.do_openssl_init = loaded.config.mqtt && loaded.config.mqtt->tls ? 1 : 0;
  MQTTAsync_global_init(&paho);
  log::set_level(loaded.config.log_level);
  log::info("depot-agent " DEPOT_VERSION " starting: site " + loaded.config.site + ", gateway " +
            loaded.config.gateway + ", config " + loaded.path);

  // One agent per database: a second one would interleave group commits and double-publish.
  // A lock file that cannot even be created is not another agent: name the real problem (a
  // missing folder gets the same message as opening the database would give).
  const auto lock_path = loaded.database_path + ".lock";
  if (auto bad = database_not_a_file(loaded); !bad.empty()) {
    log::error(bad);
    return 2;  // the config's `database` is wrong: not restarted (RestartPreventExitStatus=2)
  }
  {
    auto dir = std::filesystem::path(loaded.database_path).parent_path();
    std::error_code ec;
    if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
      log::error("database " + loaded.database_path + ": directory " + dir.string() +
                 " does not exist");
      return 1;
    }
  }
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (lock_fd < 0) {
    log::error("database " + loaded.database_path + ": cannot create its lock file " + lock_path +
               ": " + std::strerror(errno));
    return 1;
  }
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    log::error("another depot-agent is already running on " + loaded.database_path + " (" +
               lock_path + " is locked)");
    return 1;
  }
  // Start-up phases at debug level, with their times (docs/performance.md, "Start-up").
  auto phase_start = std::chrono::steady_clock::now();
  auto phase = [&](std::string_view what) {
    const auto now = std::chrono::steady_clock::now();
    log::debug("start-up: " + std::string(what) + " in " +
               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  now - phase_start).count()) + " ms");
    phase_start = now;
  };
  // Before READY, what the agent rewrites in place (every table but the append-only history);
  // the whole file after READY on its own thread (BackgroundCheck below). A start after that
  // check found damage (the marker file) checks the whole file first, and moves it aside.
  const auto whole_marker = loaded.database_path + ".check-whole";
  std::error_code marker_ec;
  const bool check_whole = std::filesystem::exists(whole_marker, marker_ec);
  auto integrity = store::check_or_move_aside(
      loaded.database_path, compact_now(), loaded.config.durability.busy_timeout_ms,
      check_whole ? store::CheckScope::kWhole : store::CheckScope::kLive);
  phase(check_whole ? "integrity check of the whole file (PRAGMA quick_check)"
                    : "integrity check of the live tables (PRAGMA quick_check(TABLE))");
  if (!integrity) {
    log::error(integrity.error().message);
    return 1;
  }
  // Until the whole file has passed the check after READY, the marker stays: a start that
  // fails on damage the live check cannot see (or stops first) checks the whole file next time.
  // (Checked whole just now: nothing is pending.)
  if (check_whole)
    std::filesystem::remove(whole_marker, marker_ec);
  else
    std::ofstream(whole_marker) << "start " << wall_now() << ": whole-file check pending\n";
  if (integrity->moved_aside) {
    log::error("DATABASE DAMAGED: " + loaded.database_path + " failed its integrity check (" +
               integrity->reason + "). It was NOT deleted: it is now " + integrity->moved_to +
               " and a new, empty database is being created. Stock counts start from zero "
               "until recovered: see docs/operations.md, 'A damaged database'.");
  }

  auto db = open_for_writing(loaded);
  if (!db) {
    log::error(db.error().message);
    return 1;
  }
  phase("database opened (schema, catalog)");
  if (integrity->moved_aside) {
    (void)(*db)->set_meta("damaged_database_moved_to", integrity->moved_to);
  }
  // Made at the first start on a database, with or without cloud sync (docs/protocol.md).
  if (auto inc = store::outbox_incarnation(**db, new_id(), wall_now()); !inc)
    log::error(inc.error().message);
  // A 512 KiB page cache (SQLite's default is 2 MB): the hot pages (B-tree interiors, the tails
  // of movements, outbox and readings) fit; the rest is read back from the kernel's page
  // cache, which is not this process's resident memory.
  if (auto st = (*db)->exec("PRAGMA cache_size=-512"); !st)
    log::warning("database: could not set cache_size: " + st.error().message);
  store::Ledger ledger(**db, lot_rules(loaded.config));
  auto catalog = store::load_catalog(**db);
  if (!catalog) {
    log::error("loading the catalog: " + catalog.error().message);
    return 1;
  }
  // SKUs with their own per-scan maximum (kept in memory, not in the database).
  std::map<std::string, std::int64_t> sku_limits;
  for (const auto& item : loaded.config.catalog)
    if (item.max_qty_per_scan) sku_limits.emplace(item.sku, *item.max_qty_per_scan);
  // The catalog is now in the database and in `catalog`: the parsed copy is not needed again
  // (10,000 SKUs: some 6 MB), and the heap freed after parsing goes back to the kernel.
  std::vector<CatalogItem>().swap(loaded.config.catalog);
  malloc_trim(0);
  phase("barcode index loaded");

  boost::asio::io_context io;
  const auto& d = loaded.config.durability;
  store::GroupCommit commits(io, ledger, static_cast<std::size_t>(d.batch_max_movements),
                             std::chrono::milliseconds(d.batch_max_ms));

  ScanIntake scans(io, loaded.config.scanners, *catalog, **db, ledger, commits,
                   std::move(sku_limits));
  LoopMonitor loop_monitor(io);  // /metrics and /healthz: how late the loop runs
  // What is wrong, for STATUS= and the MQTT status: "" when healthy.
  std::string db_damage;  // what the whole-file check after READY found ("" = nothing)
  auto problems = [&] {
    std::string out = db_damage;
    auto h = commits.health();
    if (h.failing)
      out += (out.empty() ? "" : "; ") + std::string("DATABASE FAILING (") + h.last_error +
             "), " + std::to_string(h.waiting) + " waiting to be recorded";
    if (scans.counters().not_recorded)
      out += (out.empty() ? "" : "; ") + std::to_string(scans.counters().not_recorded) +
             " scans NOT recorded";
    if (auto s = scans.problems(); !s.empty()) out += (out.empty() ? "" : "; ") + s;
    return out;
  };
  auto health_json = [&] {
    auto h = commits.health();
    auto p = problems();
    nlohmann::json store{{"failing", h.failing},
                         {"waiting", h.waiting},
                         {"not_recorded", scans.counters().not_recorded},
                         {"retries", h.retries}};
    if (h.failing) store["error"] = h.last_error;
    return nlohmann::json{
        {"ok", p.empty()}, {"problems", p}, {"store", store}, {"scanners", scans.health_json()}};
  };

  // Replenishment (docs/replenishment.md): re-evaluates the SKUs of each committed batch.
  Replenishment replenishment(**db, loaded.config.replenish, Replenishment::Mode::kWrite);
  // The surge windows run on CLOCK_MONOTONIC (an NTP step does not move them), shifted by
  // 30 days so that picks from before this boot still have a positive time on it.
  replenishment.use_mono_clock([] { return mono_now_ns() / 1'000'000 + 30LL * 86'400'000; });
  if (auto st = replenishment.load(timefmt::parse_rfc3339_ms(wall_now()).value_or(0)); !st) {
    log::error("replenishment: loading its state: " + st.error().message);
    return 1;
  }
  phase("replenishment loaded");
  ReplenishmentLoop replenish_loop(io, **db, replenishment, std::chrono::seconds(2),
                                   std::chrono::seconds(60));
  commits.set_in_commit([&](const store::Txn& txn) { return replenish_loop.in_commit(txn); },
                        [&](const std::string& why) { replenish_loop.in_commit_undone(why); });
  commits.set_after_commit([&](std::span<const MovementRequest>,
                               std::span<const store::PostResult> results) {
    replenish_loop.after_commit(results);
  });

  // The config file's fingerprint (the audit trail, the cloud status: a fleet sees which
  // gateways differ), of the bytes load_config_file parsed.
  std::string config_sha256 = loaded.sha256;
  // Cloud sync, when configured; without an `mqtt` section the agent runs offline.
  std::unique_ptr<sync::CloudSync> cloud;
  if (loaded.config.mqtt) {
    sync::SyncHooks hooks;
    hooks.version = DEPOT_VERSION;
    hooks.boot_time = wall_now();
    // A command that changes (or snapshots) stock comes after the scans received before it:
    // while they wait for the database (busy, failing), it is refused, not applied ahead.
    hooks.before_stock_change = [&]() -> Status {
      commits.flush();
      if (commits.pending() > 0)
        return Error{std::to_string(commits.pending()) +
                         " scan(s) received before this command are still waiting for the "
                         "database (busy or failing): the command was not applied, so that it "
                         "does not come before them; send it again",
                     ErrorKind::kBusy};
      return {};
    };
    hooks.catalog_changed = [&] {
      if (auto c = store::load_catalog(**db); c) *catalog = std::move(*c);
      replenish_loop.reload();
    };
    hooks.replenish_changed = [&] { replenish_loop.proposals_changed(); };
    hooks.orders_changed = [&](const orders::Change& change) {
      replenish_loop.orders_changed(change);
    };
    hooks.health = health_json;
    hooks.catalog_skus = [&] { return catalog->size(); };  // loaded.config.catalog is freed
    hooks.config_sha256 = [&] { return config_sha256; };
    cloud = std::make_unique<sync::CloudSync>(io, loaded.config, **db, ledger, std::move(hooks));
    if (auto st = cloud->start(); !st) {
      log::error(st.error().message);
      return 1;
    }
  } else {
    log::info("no mqtt section: cloud sync is off; records stay in the outbox");
  }
  // Cold chain, when zones are configured (docs/coldchain.md, "In the running agent"). The
  // probe drivers deliver raw readings to cold->on_reading on this loop; a 1 s timer ticks.
  // Alarm outputs (docs/coldchain.md, "Alarm outputs and escalation"): their worker threads
  // outlive the cold chain that submits to them; results are drained by its 1 s tick.
  std::unique_ptr<drivers::AlarmOutputRunner> outputs;
  std::unique_ptr<ColdChain> cold;
  boost::asio::steady_timer cold_timer(io);
  std::function<void()> cold_tick;
  // Every gateway's audit trail records a changed config (at start here, on SIGHUP below).
  if (auto ch = audit_config_change(**db, loaded.path, config_sha256,
                                    "started with a changed config", wall_now());
      !ch)
    log::error("audit: " + ch.error().message);
  if (!loaded.config.zones.empty()) {
    ColdChainSettings cs;
    cs.zones = loaded.config.zones;
    cs.sensors = loaded.config.sensors;
    cs.retention = loaded.config.retention;
    cs.outputs = loaded.config.alarm_outputs;
    cs.readings_commit_s = loaded.config.durability.readings_commit_s;
    if (loaded.config.mqtt)  // the envelope's own bytes (site, gateway, ids) stay under 512
      cs.telemetry_record_bytes =
          std::min(cs.telemetry_record_bytes,
                   static_cast<std::size_t>(loaded.config.mqtt->batch_bytes) - 512);
    ColdChainHooks ch;
    if (!cs.outputs.outputs.empty()) {
      outputs = std::make_unique<drivers::AlarmOutputRunner>(cs.outputs.outputs);
      ch.run_output = [&outputs](coldchain::OutputAction a) { outputs->submit(std::move(a)); };
      ch.output_results = [&outputs] { return outputs->take_results(); };
    }
    ch.new_id = [] { return new_id(); };
    ch.before_stock_change = [&] { commits.flush(); };
    ch.cloud_ack_outcome = [&](const std::string& id, bool applied, const nlohmann::json& result,
                               const std::string& error) {
      if (cloud) cloud->command_outcome("alarm.ack", sync::make_reply(id, applied, error, result));
    };
    cold = std::make_unique<ColdChain>(**db, ledger, std::move(cs), std::move(ch));
    if (auto st = cold->start(instant_now()); !st) {
      log::error("cold chain: " + st.error().message);
      return 1;
    }
    cold_tick = [&] {
      cold_timer.expires_after(std::chrono::seconds(1));
      cold_timer.async_wait([&](const boost::system::error_code& ec) {
        if (ec) return;
        // The next tick is set before this one runs: an exception leaving it (the loop's
        // guard logs it and goes on) stopped the cold chain for good while the watchdog
        // was still fed (no offline probes, no alarm delays, no escalation).
        cold_tick();
        cold->tick(instant_now());
      });
    };
    cold_tick();
    log::info("cold chain: " + std::to_string(loaded.config.zones.size()) + " zone(s), " +
              std::to_string(loaded.config.sensors.size()) + " probe(s)" +
              (outputs ? ", " + std::to_string(loaded.config.alarm_outputs.outputs.size()) +
                             " alarm output(s)"
                       : ""));
    // What `check` warns about (a zone without a probe, a calibration past due) is said at
    // every start too: the journal is where an operator looks.
    const auto& cfg = loaded.config;
    for (const auto& w : coldchain::config_warnings(cfg.zones, cfg.sensors, cfg.alarm_outputs,
                                                    cfg.retention, instant_now().wall_ms))
      log::warning("cold chain: " + w);
  }
  // One driver per probe (drivers/sensor): raw readings go to the cold chain on this loop.
  // Declared after `cold`, so they are gone before it is.
  std::vector<std::unique_ptr<drivers::Sensor>> probes;
  if (cold) {
    for (const auto& sc : loaded.config.sensors) {
      drivers::SensorEvents events;
      events.reading = [&cold](coldchain::Reading raw) { cold->on_reading(std::move(raw)); };
      events.status = [](bool is_error, std::string message) {  // names the probe
        if (is_error)
          log::warning(message);
        else
          log::info(message);
      };
      probes.push_back(drivers::make_sensor(io, sc, std::move(events), instant_now));
    }
  }

  // systemd: READY once the database is open and drivers started, WATCHDOG from the loop.
  auto systemd = ServiceManagerLink::from_environment(io, [&] {
    StatusFacts f{.skus = catalog->size(),
                  .scans = scans.counters().scans,
                  .posted = scans.counters().posted,
                  .rejected = scans.counters().rejected};
    f.problems = problems();
    if (auto depths = store::outbox_depths(**db); depths) {
      f.outbox = 0;
      for (const auto& [stream, n] : *depths) *f.outbox += n;
    }
    if (cloud) {
      f.connected = cloud->connected();
      f.cloud_problem = cloud->link_problem();
    }
    return f;
  });

  // The console (docs/api.md): off unless `console.listen` is set.
  std::unique_ptr<http::Server> console;
  ConsoleSources console_sources;  // kept for the live-update watcher
  std::shared_ptr<EventHub> console_events;
  std::unique_ptr<ConsoleWatcher> console_watcher;
  std::unique_ptr<SignWorker> sign_worker;
  if (loaded.config.console) {
    ConsoleSources cs;
    // Changed on the loop by a reload (its replenishment part): jobs on worker threads copy
    // what they read of it before they leave the loop.
    cs.config = &loaded.config;
    cs.db = &**db;
    cs.scans = &scans;
    cs.commits = &commits;
    cs.cold = cold.get();
    cs.loop = &loop_monitor;
    cs.cloud = [&]() -> const sync::CloudSync* { return cloud.get(); };
    cs.watchdog_pings = [&] { return systemd.watchdog_pings(); };
    cs.health = health_json;
    cs.server = [&]() -> const http::Server* { return console.get(); };
    // Accounts (docs/operations.md, "Accounts and signatures"): sign-in and signed actions run
    // on the signing worker (Argon2id off the loop, on its own connection); machines' bearer
    // tokens are checked on the loop (one indexed read).
    sign_worker = std::make_unique<SignWorker>(io, [&loaded] {
      return open_for_writing(loaded, CatalogAtOpen::kKeep);  // (loaded's catalog is freed)
    });
    connect_accounts(cs, io, *sign_worker, /*agent_running=*/true);
    cs.events = console_events = std::make_shared<EventHub>(io);
    console_sources = cs;
    console_watcher = std::make_unique<ConsoleWatcher>(io, console_sources, console_events);
    console = std::make_unique<http::Server>(io, server_options(*loaded.config.console),
                                             console_routes(std::move(cs)));
    if (auto st = console->start(); !st) {
      log::error(st.error().message);
      return 1;
    }
    log::info("console: listening on " + std::string(console->tls() ? "https" : "http") + "://" +
              loaded.config.console->listen + " (/metrics, /healthz)");
  }

  // A failing database is logged once when it starts and once when it recovers (each batch's
  // retries are not), and the retained MQTT status follows the health, checked every 2 s.
  commits.set_health_changed([&](const store::CommitHealth& h) {
    if (h.failing) {
      log::error("database: writes are failing (" + h.last_error +
                 "); scans are kept in memory "
                 "and retried; the status shows what could not be recorded");
    } else {
      log::warning("database: writes succeed again");
      // Space came back: fold the WAL into the database now, so it does not stay full.
      if (auto st = (*db)->checkpoint_now(); !st)
        log::warning("database: checkpoint after recovery: " + st.error().message);
    }
  });
  boost::asio::steady_timer health_timer(io);
  std::string last_health = health_json().dump();
  std::function<void()> watch_health = [&] {
    health_timer.expires_after(std::chrono::seconds(2));
    health_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      scans.set_counts_only(cloud && cloud->publisher().over_budget());
      auto now = health_json();
      now["store"].erase("retries");  // changes on every retry: not worth a publish
      auto text = now.dump();
      if (text != last_health) {
        last_health = std::move(text);
        if (cloud) cloud->health_changed();
      }
      watch_health();
    });
  };

  // Every 30 s, what was freed goes back to the kernel. glibc returns by itself only the free
  // top of the main heap; what a drain, a burst of requests or Paho's threads freed elsewhere
  // stays with the process (2.2 MB after a 24,000-record drain over TLS). malloc_trim walks
  // the free chunks and gives their pages back (docs/performance.md, "Footprint").
  boost::asio::steady_timer trim_timer(io);
  std::function<void()> trim_memory = [&] {
    trim_timer.expires_after(std::chrono::seconds(30));
    trim_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      malloc_trim(0);
      trim_memory();
    });
  };

  bool stopping = false;  // a reload read before or during the stop is not applied
  boost::asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    stopping = true;
    log::info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", stopping");
    systemd.stopping();
    if (console_watcher) console_watcher->stop();
    if (console_events) console_events->stop();
    if (console) console->stop();
    if (sign_worker) sign_worker->stop();
    loop_monitor.stop();
    scans.stop();
    health_timer.cancel();
    trim_timer.cancel();
    for (auto& p : probes) p->stop();
    commits.flush();
    replenish_loop.stop();
    if (cold) {
      cold_timer.cancel();
      (void)cold->flush();
    }
    if (cloud) {
      cloud->stop(std::chrono::seconds(5), [&] { io.stop(); });  // publish what is queued
    } else {
      io.stop();
    }
  });

  // SIGHUP: the file is read and parsed on a thread of its own (a config given as a FIFO
  // whose writer is slow held the loop for up to 10 s, past scans and probe reads; a 20 MB
  // catalog takes seconds to parse), then applied on the loop. A SIGHUP that comes while one
  // is being read is taken once that one is applied.
  boost::asio::signal_set hup(io, SIGHUP);
  bool reload_reading = false, reload_again = false;
  std::function<void()> read_config;
  std::function<void(LoadResult)> apply_reload = [&](LoadResult fresh) {
    if (stopping) return;  // (no READY=1 after STOPPING=1)
    // Whatever happens, the reload ends: READY=1, and the next SIGHUP is taken.
    try {
      if (!fresh.loaded) {
        log::error("reload refused: " + loaded.path + " has " +
                   std::to_string(fresh.problems.size()) +
                   " problem(s); keeping the running config");
        for (const auto& p : fresh.problems) log::error("  " + p);
      } else {
        if (fresh.loaded->database_path != loaded.database_path)
          log::warning("reload: database path changes take effect at the next restart");
        if (fresh.loaded->config.scanners != loaded.config.scanners)
          log::warning(
              "reload: scanner changes are NOT applied by a reload: restart the agent "
              "(systemctl restart depot-agent) to use them; the running scanners stay");
        if (fresh.loaded->config.mqtt != loaded.config.mqtt)
          log::warning("reload: mqtt changes take effect at the next restart");
        if (fresh.loaded->config.console != loaded.config.console)
          log::warning("reload: console changes take effect at the next restart");
        // The site's calendar stays the running one: the engine, the lots, the console and the
        // cloud's campaign and order commands must not count days in two zones.
        if (auto& f = fresh.loaded->config; f.site_timezone != loaded.config.site_timezone) {
          log::warning("reload: site_timezone changes take effect at the next restart (the "
                       "site's days stay those of \"" +
                       (loaded.config.site_timezone.empty() ? std::string("UTC")
                                                            : loaded.config.site_timezone) +
                       "\")");
          f.site_timezone = loaded.config.site_timezone;
          f.site_zone = loaded.config.site_zone;
          f.replenish.site_zone = loaded.config.site_zone;
          for (auto& c : f.replenish.campaigns) replenish::localize(c, f.site_zone);
        }
        if (fresh.loaded->config.zones != loaded.config.zones ||
            fresh.loaded->config.sensors != loaded.config.sensors ||
            fresh.loaded->config.retention != loaded.config.retention ||
            fresh.loaded->config.alarm_outputs != loaded.config.alarm_outputs)
          log::warning(
              "reload: zone, sensor, retention and alarm output changes take effect at "
              "the next restart");
        // The running config's hash (status, `config.get`, the audit) moves only with its
        // catalog: a reload whose catalog cannot be written is refused as a whole.
        auto c = apply_config_catalog(**db, fresh.loaded->config.catalog);
        Expected<Catalog> written =
            c ? store::load_catalog(**db) : Expected<Catalog>(c.error());
        if (!c) {
          log::error("reload refused: " + c.error().message + "; keeping the running config");
        } else if (!written) {
          // The database holds the new catalog: the next reload reads it back.
          log::error("reload refused: the catalog was written but reading it back failed: " +
                     written.error().message +
                     "; scans use the running catalog until the next reload or restart");
        } else {
          config_sha256 = fresh.loaded->sha256;
          if (auto ch = audit_config_change(**db, loaded.path, config_sha256,
                                            "config reloaded (SIGHUP)", wall_now());
              !ch)
            log::error("audit: " + ch.error().message);
          *catalog = std::move(*written);
          ledger.set_lot_rules(lot_rules(fresh.loaded->config));
          if (auto rst =
                  replenishment.reconfigure(fresh.loaded->config.replenish,
                                            timefmt::parse_rfc3339_ms(wall_now()).value_or(0));
              !rst)
            log::error("reload: replenishment: " + rst.error().message);
          // The running config's replenishment part is the new one for every reader of it:
          // the console's stock view and the cloud's command checks (they kept the start's
          // profiles until a restart, while the engine used the new ones).
          loaded.config.replenish = fresh.loaded->config.replenish;
          loaded.config.log_level = fresh.loaded->config.log_level;
          if (cloud) cloud->reconfigured();
          log::set_level(fresh.loaded->config.log_level);
          log::info("reloaded " + loaded.path + ": " + std::to_string(catalog->size()) + " SKUs");
        }
      }
    } catch (const std::exception& e) {
      log::error(
          "reload: internal error, the running config is kept as far as it was not yet "
          "replaced: " +
          printable(e.what()));
    }
    malloc_trim(0);
    reload_reading = false;
    if (std::exchange(reload_again, false)) return read_config();
    systemd.ready();
    give_back_file_pages("the reload");
  };
  // Joined before the objects its result is applied to are gone (declared after them), and
  // before io: a read under way at shutdown finishes (a pipe within its 10 s) unapplied.
  std::jthread reload_reader;
  read_config = [&] {
    reload_reading = true;
    if (reload_reader.joinable()) reload_reader.join();  // its result was applied: it ended
    reload_reader = std::jthread([&io, &apply_reload, path = loaded.path] {
      auto fresh = std::make_shared<LoadResult>();
      try {  // (an exception leaving a thread ends the process)
        *fresh = load_config_file(path, /*fingerprint=*/true);
      } catch (const std::exception& e) {
        *fresh = LoadResult{};
        fresh->problems.push_back(path + ": reading it: internal error: " + printable(e.what()));
      } catch (...) {
        *fresh = LoadResult{};
        fresh->problems.push_back(path + ": reading it: internal error");
      }
      boost::asio::post(io, [&apply_reload, fresh] { apply_reload(std::move(*fresh)); });
    });
  };
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec || stopping) return;  // (no RELOADING=1 after STOPPING=1)
      if (reload_reading) {
        reload_again = true;
        log::info("reload: SIGHUP while " + loaded.path +
                  " is being read: it is read again once that reload is applied");
      } else {
        systemd.reloading();
        read_config();
      }
      wait_hup();
    });
  };
  wait_hup();

  scans.start();
  if (console) loop_monitor.start();  // only the console reads it: no wakeups otherwise
  if (console_events) console_events->start();
  if (console_watcher) console_watcher->start();
  watch_health();
  trim_memory();
  for (auto& p : probes) p->start();
  replenish_loop.start();
  malloc_trim(0);  // what loading freed goes back before the long steady state
  phase("cold chain, cloud link, console and drivers started");
  log::info("ready: database " + loaded.database_path + ", " + std::to_string(catalog->size()) +
            " SKUs, synchronous=" + std::string(to_string(d.synchronous)) +
            (systemd.watchdog() ? ", watchdog ping every " +
                                      std::to_string(systemd.watchdog()->count() / 1000) + " ms"
                                : ""));
  systemd.ready();
  // What only loading ran leaves the resident set (base/resident.hpp).
  give_back_file_pages("start-up");
  // The whole file, now that the agent is up (see the integrity check before READY).
  BackgroundCheck whole_check(
      io, loaded.database_path, d.busy_timeout_ms,
      [&](const Expected<std::string>& result, std::int64_t took_ms) {
        if (!result) {
          log::warning("database: the whole-file integrity check did not run (the next start "
                       "runs it before READY): " + result.error().message);
        } else if (result->empty()) {
          std::error_code ec;
          std::filesystem::remove(whole_marker, ec);
          log::info("database: whole-file integrity check ok (" + std::to_string(took_ms) +
                    " ms)");
        } else {
          db_damage = "DATABASE DAMAGED (" + printable(*result) + ")";
          std::ofstream(whole_marker) << *result << "\n";
          log::error("DATABASE DAMAGED: " + loaded.database_path +
                     " failed the whole-file integrity check after start (" + printable(*result) +
                     "). The agent keeps running on it; the next start checks it whole first and "
                     "moves it aside (" + whole_marker + " marks it): see docs/operations.md, "
                     "'A damaged database'.");
        }
      });
  if (!check_whole) whole_check.start();
  run_guarded(io);
  commits.flush();
  commits.abandon("not recorded: the agent stopped while the database was failing");
  scans.flush_lost();
  if (cold) (void)cold->flush();
  log::info("stopped");
  return 0;
}

}  // namespace depot::app
