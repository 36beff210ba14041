#include "app/console.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include <boost/asio/post.hpp>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "app/signing.hpp"
#include "app/cold_chain.hpp"
#include "app/report_cli.hpp"
#include "app/scan_intake.hpp"
#include "http/assets.hpp"
#include "sensor/sensor.hpp"
#include "core/time.hpp"
#include "store/group_commit.hpp"
#include "store/outbox.hpp"
#include "sync/cloud_sync.hpp"
#include "sync/schedule.hpp"

namespace depot::app {

void LoopMonitor::start() {
  started_ = true;
  due_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  arm();
}

void LoopMonitor::arm() {
  timer_.expires_at(due_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    auto now = std::chrono::steady_clock::now();
    last_lag_s_ = std::chrono::duration<double>(now - due_).count();
    max_lag_s_ = std::max(max_lag_s_, last_lag_s_);
    recent_[static_cast<std::size_t>(ticks_ % 10)] = last_lag_s_;
    ++ticks_;
    due_ = now + std::chrono::seconds(1);
    arm();
  });
}

double LoopMonitor::recent_lag_s() const {
  if (!started_) return 0;
  // A tick that is overdue right now counts too: a loop blocked for a minute shows it.
  double worst = *std::max_element(std::begin(recent_), std::end(recent_));
  auto overdue = std::chrono::duration<double>(std::chrono::steady_clock::now() - due_).count();
  return std::max(worst, overdue);
}

namespace {

// Prometheus text exposition format 0.0.4: one HELP and TYPE per family, then its samples.
class PromText {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  void sample(std::string_view name, double value,
              std::initializer_list<std::pair<std::string_view, std::string_view>> labels = {}) {
    out_ << name;
    if (labels.size()) {
      out_ << '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        out_ << (first ? "" : ",") << k << "=\"" << escape(v) << '"';
        first = false;
      }
      out_ << '}';
    }
    char buf[64];
    if (value == static_cast<double>(static_cast<std::int64_t>(value)) && value < 9e15 &&
        value > -9e15)
      std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(value));
    else
      std::snprintf(buf, sizeof buf, "%.9g", value);
    out_ << ' ' << buf << '\n';
  }
  // A family with a single unlabelled sample.
  void one(std::string_view name, std::string_view type, std::string_view help, double value) {
    family(name, type, help);
    sample(name, value);
  }
  std::string str() const { return out_.str(); }

 private:
  static std::string escape(std::string_view v) {
    std::string s;
    for (char c : v) {
      if (c == '\\')
        s += "\\\\";
      else if (c == '"')
        s += "\\\"";
      else if (c == '\n')
        s += "\\n";
      else
        s += c;
    }
    return s;
  }
  std::ostringstream out_;
};

double resident_bytes() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  if (!(in >> pages >> resident)) return 0;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

// Any counter as a sample value (one template: size_t is neither 64-bit type on armhf).
template <class T>
double d(T v) {
  return static_cast<double>(v);
}

}  // namespace

std::string render_metrics(const ConsoleSources& s) {
  PromText m;
  const auto now_ms = timefmt::parse_rfc3339_ms(wall_now()).value_or(0);
  m.family("depot_build_info", "gauge", "The agent's version (the value is always 1).");
  m.sample("depot_build_info", 1, {{"version", DEPOT_VERSION}});

  // The outbox: what waits for the cloud, per stream.
  if (s.db) {
    m.family("depot_outbox_depth", "gauge", "Records in the outbox not yet delivered.");
    // Every stream the agent publishes, 0 when empty: an alert rule on a series that vanishes
    // when the outbox drains would never resolve.
    if (auto depths = store::outbox_depths(*s.db)) {
      for (const auto& name : sync::stream_names()) depths->emplace(name, 0);
      for (const auto& [stream, n] : *depths)
        m.sample("depot_outbox_depth", d(n), {{"stream", stream}});
    }
    m.family("depot_outbox_oldest_age_seconds", "gauge",
             "Age of the oldest record in the outbox not yet delivered.");
    if (auto oldest = store::outbox_oldest_pending(*s.db))
      for (const auto& [stream, ts] : *oldest)
        if (auto t = timefmt::parse_rfc3339_ms(ts))
          m.sample("depot_outbox_oldest_age_seconds",
                   static_cast<double>(std::max<std::int64_t>(0, now_ms - *t)) / 1000.0,
                   {{"stream", stream}});
    if (auto b = store::database_bytes(*s.db))
      m.one("depot_database_bytes", "gauge", "Size of the SQLite database file (without its WAL).",
            d(*b));
  }
  if (s.commits) {
    auto h = s.commits->health();
    m.one("depot_database_failing", "gauge", "1 while writes to the database are failing.",
          h.failing ? 1 : 0);
    m.one("depot_database_commit_retries_total", "counter", "Commits that failed and were retried.",
          d(h.retries));
    m.one("depot_movements_waiting", "gauge", "Movements waiting for their commit.", d(h.waiting));
  }

  // The cloud link.
  const sync::CloudSync* cloud = s.cloud ? s.cloud() : nullptr;
  m.one("depot_mqtt_enabled", "gauge", "1 when the config has an mqtt section.", cloud ? 1 : 0);
  if (cloud) {
    const auto& pc = cloud->publisher().counters();
    m.one("depot_mqtt_connected", "gauge", "1 while connected to the broker.",
          cloud->connected() ? 1 : 0);
    m.one("depot_mqtt_connects_total", "counter", "Connections made to the broker.",
          d(cloud->connects()));
    m.one("depot_mqtt_reconnects_total", "counter", "Connections made after the first.",
          d(cloud->connects() > 0 ? cloud->connects() - 1 : 0));
    m.one("depot_mqtt_messages_published_total", "counter", "Outbox messages published.",
          d(pc.messages));
    m.one("depot_mqtt_records_published_total", "counter", "Outbox records published.",
          d(pc.records));
    m.one("depot_mqtt_records_acknowledged_total", "counter",
          "Outbox records acknowledged by the broker (PUBACK).", d(pc.acked_records));
    m.one("depot_mqtt_publish_failures_total", "counter", "Publishes that failed (resent).",
          d(pc.failed));
    m.one("depot_mqtt_records_undeliverable_total", "counter",
          "Records given up as larger than any message allowed.", d(pc.undeliverable));
    if (pc.last_ack_mono_ns > 0)
      m.one("depot_mqtt_last_puback_age_seconds", "gauge", "Time since the last PUBACK.",
            static_cast<double>(mono_now_ns() - pc.last_ack_mono_ns) / 1e9);
    const auto cc = cloud->command_counts();
    m.family("depot_commands_total", "counter",
             "Cloud commands handled, by outcome (a reply was sent or attempted for each).");
    m.sample("depot_commands_total", d(cc.applied), {{"outcome", "applied"}});
    m.sample("depot_commands_total", d(cc.duplicate), {{"outcome", "duplicate"}});
    m.sample("depot_commands_total", d(cc.refused), {{"outcome", "refused"}});
    m.one("depot_commands_dropped_total", "counter",
          "Cloud commands dropped unanswered: too many were waiting to be handled.",
          d(cc.dropped));
    m.one("depot_command_replies_lost_total", "counter",
          "Replies to cloud commands not sent (not connected, refused) or not acknowledged.",
          d(cc.replies_lost));
    m.one("depot_outbox_over_budget", "gauge", "1 when the outbox is over its disk budget.",
          cloud->publisher().over_budget() ? 1 : 0);
    m.one("depot_outbox_budget_bytes", "gauge", "The outbox's disk budget (mqtt.outbox_budget_mb).",
          d(s.config->mqtt->outbox_budget_mb * 1024 * 1024));
  }

  // Scanners.
  if (s.scans) {
    const auto& c = s.scans->counters();
    m.family("depot_scans_total", "counter", "Scans read, per scanner.");
    const auto& per = s.scans->per_scanner();
    for (const auto& sc : s.config->scanners) {
      auto it = per.find(sc.id);
      m.sample("depot_scans_total", it == per.end() ? 0 : d(it->second.scans),
               {{"scanner", sc.id}});
    }
    m.family("depot_scan_rejects_total", "counter", "Scans rejected, per scanner.");
    for (const auto& sc : s.config->scanners) {
      auto it = per.find(sc.id);
      m.sample("depot_scan_rejects_total", it == per.end() ? 0 : d(it->second.rejected),
               {{"scanner", sc.id}});
    }
    m.family("depot_scan_movements_total", "counter",
             "Movements recorded from scans, per scanner.");
    for (const auto& sc : s.config->scanners) {
      auto it = per.find(sc.id);
      m.sample("depot_scan_movements_total", it == per.end() ? 0 : d(it->second.posted),
               {{"scanner", sc.id}});
    }
    m.one("depot_scans_not_recorded_total", "counter",
          "Scans lost to a failing database (scan them again).", d(c.not_recorded));
    auto health = s.scans->health();
    m.family("depot_scanner_up", "gauge", "1 while the scanner's driver is listening or open.");
    for (const auto& [id, h] : health)
      m.sample("depot_scanner_up", h.ok ? 1 : 0, {{"scanner", id}});
    m.family("depot_scanner_clients", "gauge", "TCP scanners: clients connected now.");
    for (const auto& [id, h] : health)
      m.sample("depot_scanner_clients", d(h.clients), {{"scanner", id}});
    m.family("depot_scanner_connections_refused_total", "counter",
             "TCP scanners: connections refused (full).");
    for (const auto& [id, h] : health)
      m.sample("depot_scanner_connections_refused_total", d(h.refused), {{"scanner", id}});
  }

  // Cold chain: zones, probes, open alarms.
  if (s.cold) {
    m.family("depot_zone_level", "gauge", "Zone state: 0 normal, 1 warning, 2 alarm.");
    for (const auto& z : s.config->zones)
      if (const auto* mon = s.cold->monitor(z.id))
        m.sample("depot_zone_level", static_cast<double>(static_cast<int>(mon->level())),
                 {{"zone", z.id}});
    m.family("depot_zone_no_data", "gauge", "1 while every probe of the zone is offline.");
    for (const auto& z : s.config->zones)
      if (const auto* mon = s.cold->monitor(z.id))
        m.sample("depot_zone_no_data", mon->no_data() ? 1 : 0, {{"zone", z.id}});
    std::int64_t open = 0;
    m.family("depot_probe_celsius", "gauge", "A probe's latest good (calibrated) reading.");
    for (const auto& z : s.config->zones) {
      const auto* mon = s.cold->monitor(z.id);
      if (!mon) continue;
      for (auto side : {coldchain::Side::kHigh, coldchain::Side::kLow})
        if (mon->open_excursion(side) && mon->level(side) == coldchain::Level::kAlarm) ++open;
      for (const auto& p : mon->probes()) {
        if (p.failure) ++open;
        if (p.celsius)
          m.sample("depot_probe_celsius", *p.celsius, {{"zone", z.id}, {"probe", p.spec.id}});
      }
    }
    m.family("depot_probe_online", "gauge", "1 while the probe delivers good readings.");
    for (const auto& z : s.config->zones)
      if (const auto* mon = s.cold->monitor(z.id))
        for (const auto& p : mon->probes())
          m.sample("depot_probe_online", p.state == coldchain::ProbeState::kOnline ? 1 : 0,
                   {{"zone", z.id}, {"probe", p.spec.id}});
    m.family("depot_probe_readings_total", "counter", "A probe's good readings since start.");
    for (const auto& z : s.config->zones)
      if (const auto* mon = s.cold->monitor(z.id))
        for (const auto& p : mon->probes())
          m.sample("depot_probe_readings_total", d(p.counts.good),
                   {{"zone", z.id}, {"probe", p.spec.id}});
    m.one("depot_alarms_open", "gauge", "Temperature alarms and probe failures open now.", d(open));
    m.one("depot_probe_readings_not_stored_total", "counter",
          "Quiet readings not stored raw (retention.raw_every_s); alarms and minute summaries "
          "used them.",
          d(s.cold->counters().raw_not_stored));
  }

  // The process.
  m.one("depot_process_resident_bytes", "gauge", "Resident memory of the agent (RSS).",
        resident_bytes());
  if (s.loop) {
    m.one("depot_event_loop_lag_seconds", "gauge", "How late the loop ran its last 1 s tick.",
          s.loop->last_lag_s());
    m.one("depot_event_loop_lag_max_seconds", "gauge", "The worst tick lateness since start.",
          s.loop->max_lag_s());
  }
  if (s.watchdog_pings)
    m.one("depot_watchdog_pings_total", "counter", "WATCHDOG=1 sent to systemd.",
          d(s.watchdog_pings()));
  m.one("depot_probe_reads_abandoned_total", "counter",
        "Probe reads that had not returned by their deadline (a hung bus or driver): each "
        "left its worker thread to that read.",
        d(drivers::BlockingReads::abandoned_threads()));
  if (const http::Server* srv = s.server ? s.server() : nullptr) {
    const auto& st = srv->stats();
    m.one("depot_console_requests_total", "counter", "Console requests answered.", d(st.requests));
    m.one("depot_console_bad_requests_total", "counter",
          "Console requests refused as malformed, oversized or a traversal.", d(st.bad));
    m.one("depot_console_connections_refused_total", "counter",
          "Console connections closed at accept (max_connections open).", d(st.refused));
    m.one("depot_console_timeouts_total", "counter",
          "Console connections dropped for a request that did not arrive in time.",
          d(st.timed_out));
    m.one("depot_console_connections", "gauge", "Console connections open now.",
          static_cast<double>(st.open));
    m.one("depot_console_streams", "gauge", "Live-update streams (GET /api/events) open now.",
          static_cast<double>(st.streams));
    m.one("depot_console_streams_dropped_total", "counter",
          "Live-update clients dropped for not reading what was sent.", d(st.streams_dropped));
  }
  return m.str();
}

std::pair<bool, nlohmann::json> health_report(const ConsoleSources& s) {
  nlohmann::json j = s.health ? s.health() : nlohmann::json::object();
  std::vector<std::string> reasons;
  // The loop: this handler runs on it, so a blocked loop answers late; a tick that came late
  // in the last ten seconds is what shows it.
  const double lag = s.loop ? s.loop->recent_lag_s() : 0;
  j["loop"] = {{"lag_ms", static_cast<std::int64_t>(lag * 1000)},
               {"ok", lag <= kUnhealthyLoopLagS}};
  if (lag > kUnhealthyLoopLagS)
    reasons.push_back("event loop: a 1 s tick ran " + std::to_string(static_cast<int>(lag * 1000)) +
                      " ms late");
  // The database: writes failing (from the group commit), and a read answered now.
  nlohmann::json db{{"ok", true}};
  if (s.db) {
    if (auto b = store::database_bytes(*s.db)) {
      db["bytes"] = *b;
    } else {
      db["ok"] = false;
      reasons.push_back("database: cannot be read: " + b.error().message);
    }
  }
  if (s.commits) {
    auto h = s.commits->health();
    if (h.failing) {
      db["ok"] = false;
      reasons.push_back("database: writes are failing (" + h.last_error + "), " +
                        std::to_string(h.waiting) + " waiting to be recorded");
    }
  }
  j["database"] = db;
  // Required drivers: every configured scanner.
  if (s.scans)
    for (const auto& [id, h] : s.scans->health())
      if (!h.ok) reasons.push_back("scanner " + id + " DOWN: " + h.problem);
  if (const sync::CloudSync* cloud = s.cloud ? s.cloud() : nullptr) j["link"] = cloud->link_json();
  const bool ok = reasons.empty();
  j["ok"] = ok;
  j["reasons"] = reasons;
  return {ok, j};
}

std::vector<http::Route> console_routes(ConsoleSources s) {
  std::vector<http::Route> routes;
  if (!s.sessions) s.sessions = std::make_shared<SessionStore>();
  if (!s.authenticate)
    s.authenticate = [sessions = s.sessions, bearer = s.verify_bearer](const http::Request& r) {
      return session_authenticate(sessions, bearer, r);
    };
  add_api_routes(routes, s);
  // The pages (agent/http/console/, embedded): / is the console, /console/<file> its parts.
  for (const auto& a : http::console_assets()) {
    std::string_view n = a.name;
    std::string type = n.ends_with(".html") ? "text/html; charset=utf-8"
                       : n.ends_with(".js") ? "text/javascript; charset=utf-8"
                       : n.ends_with(".css") ? "text/css; charset=utf-8"
                                             : "application/octet-stream";
    auto handler = [data = a.data, type](const http::Request&) {
      http::Response r;
      r.content_type = type;
      r.body = std::string(data);
      r.headers.emplace_back("Content-Security-Policy", kConsoleCsp);
      r.headers.emplace_back("X-Frame-Options", "DENY");
      r.headers.emplace_back("Referrer-Policy", "no-referrer");
      return r;
    };
    routes.push_back({"/console/" + std::string(n), {"GET"}, handler});
    if (n == "index.html") routes.push_back({"/", {"GET"}, handler});
  }
  routes.push_back({"/metrics", {"GET"}, [s](const http::Request&) {
                      http::Response r;
                      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                      r.body = render_metrics(s);
                      return r;
                    }});
  routes.push_back({"/healthz", {"GET"}, [s](const http::Request&) {
                      auto [ok, j] = health_report(s);
                      http::Response r;
                      r.status = ok ? 200 : 503;
                      r.content_type = "application/json";
                      r.body = j.dump() + "\n";
                      return r;
                    }});
  return routes;
}

http::ServerOptions server_options(const ConsoleSettings& c) {
  http::ServerOptions o;
  o.address = c.address;
  o.port = c.port;
  o.tls_cert = c.tls_cert;
  o.tls_key = c.tls_key;
  o.max_connections = static_cast<std::size_t>(c.max_connections);
  o.request_timeout = std::chrono::seconds(c.request_timeout_s);
  o.max_header_bytes = static_cast<std::size_t>(c.max_header_bytes);
  o.max_body_bytes = static_cast<std::size_t>(c.max_body_bytes);
  return o;
}

namespace {
// Runs `job` on the signing worker, with its own database connection, and answers `done` on the
// loop with the result: the connection's open error when it has none, "WHAT failed: ..." when
// the job throws (the request is still answered), `busy` at once when the worker's queue is full.
template <class T>
void on_worker(boost::asio::io_context& io, SignWorker& worker, const char* what,
               const char* busy, std::function<Expected<T>(store::Database&)> job,
               std::function<void(Expected<T>)> done) {
  const bool queued =
      worker.submit([job, done, what](store::Database* db, const std::string& open_error) {
        Expected<T> r = Error{open_error, ErrorKind::kIo};
        try {
          if (db) r = job(*db);
        } catch (const std::exception& e) {
          r = Error{std::string(what) + " failed: " + e.what()};
        }
        return std::function<void()>([done, r] { done(r); });
      });
  if (!queued) boost::asio::post(io, [done, busy] { done(Error{busy, ErrorKind::kBusy}); });
}
}  // namespace

void connect_accounts(ConsoleSources& s, boost::asio::io_context& io, SignWorker& worker,
                      bool agent_running) {
  auto now = [] { return timefmt::parse_rfc3339_ms(wall_now()).value_or(0); };
  // A bearer token (docs/api.md, "Bearer tokens"): one indexed lookup of its SHA-256, on the
  // loop, in the console's own database connection; revoked at once when `tokens revoke` runs.
  if (s.db)
    s.verify_bearer = [db = s.db](std::string_view token) -> std::optional<Principal> {
      auto name = token_name(*db, token);
      if (!name) {
        log::warning("console: a bearer token could not be checked: " + name.error().message);
        return std::nullopt;
      }
      if (!*name) return std::nullopt;
      return Principal{"token:" + **name, "reader", "", true};
    };
  s.verify_password_async = [&io, &worker, now](std::string user, std::string pass,
                                                std::function<void(Expected<Principal>)> done) {
    on_worker<Principal>(
        io, worker, "the sign-in check", "too many sign-ins at once; try again",
        [user, pass, now](store::Database& db) -> Expected<Principal> {
          auto a = check_password(db, user, pass, "console.login", now());
          if (!a) return a.error();
          return Principal{a->id, std::string(accounts::to_string(a->role)), ""};
        },
        std::move(done));
  };
  s.report = [&io, &worker, now, config = s.config](
                 std::string zone, std::int64_t from_ms, std::int64_t to_ms,
                 std::function<void(Expected<std::string>)> done) {
    on_worker<std::string>(
        io, worker, "the report", "the gateway is busy with other reports or signatures; try again",
        [zone, from_ms, to_ms, now, config](store::Database& db) -> Expected<std::string> {
          if (!config) return Error{"reports are not available here", ErrorKind::kBusy};
          const auto* z = coldchain::find_zone(config->zones, zone);
          if (!z)
            return Error{"zone: " + coldchain::unknown_zone(zone, config->zones),
                         ErrorKind::kBadInput};
          auto built = build_zone_report(db, *config, *z, from_ms, to_ms, now());
          if (!built) return built.error();
          return std::move(built->html);
        },
        std::move(done));
  };
  s.act = [&io, &worker, now, agent_running](actions::Request request, std::string account,
                                             std::string pass,
                                             std::function<void(Expected<nlohmann::json>)> done) {
    on_worker<nlohmann::json>(
        io, worker, "the action", "too many signed actions at once; try again",
        [request, account, pass, now, agent_running](store::Database& db) {
          return actions::run_signed(db, request, account, pass, agent_running, now(),
                                     std::chrono::seconds(5));
        },
        std::move(done));
  };
}

}  // namespace depot::app
