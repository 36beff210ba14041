// The console's routes (docs/api.md): GET /metrics (Prometheus text exposition format 0.0.4)
// and GET /healthz, served by http::Server on the daemon's loop. Each handler reads what the
// daemon already keeps in memory plus three SQLite reads (the undelivered outbox rows counted
// per stream, as STATUS= and the MQTT status do; one index seek per stream for the oldest
// pending record; the page count): never a scan of the readings or movements. More routes are added to the table `console_routes` returns.
// Thread-safety: the loop thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "app/actions.hpp"
#include "app/console_events.hpp"
#include "app/console_session.hpp"
#include "app/sign_worker.hpp"
#include "http/server.hpp"

namespace depot::store {
class Database;
class GroupCommit;
}  // namespace depot::store
namespace depot::sync {
class CloudSync;
}

namespace depot::app {

class ScanIntake;
class ColdChain;

// How late the loop runs its timers: a 1 s timer measures how long after its deadline it ran.
// A handler that blocks the loop shows up here (and in /healthz past `unhealthy_after`).
class LoopMonitor {
 public:
  explicit LoopMonitor(boost::asio::io_context& io) : timer_(io) {}
  void start();
  void stop() { timer_.cancel(); }
  double last_lag_s() const { return last_lag_s_; }
  double max_lag_s() const { return max_lag_s_; }  // since start
  // The worst lag of the last 10 ticks (some 10 s).
  double recent_lag_s() const;
  std::uint64_t ticks() const { return ticks_; }

 private:
  void arm();
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point due_;
  double last_lag_s_ = 0, max_lag_s_ = 0;
  double recent_[10] = {};
  std::uint64_t ticks_ = 0;
  bool started_ = false;
};

// What the routes read. Pointers may be null where the part is not configured.
struct ConsoleSources {
  const Config* config = nullptr;
  store::Database* db = nullptr;
  const ScanIntake* scans = nullptr;
  const store::GroupCommit* commits = nullptr;
  const ColdChain* cold = nullptr;
  const LoopMonitor* loop = nullptr;
  std::function<const sync::CloudSync*()> cloud;  // null while sync is off
  std::function<std::uint64_t()> watchdog_pings;
  // The agent's health, the same object the MQTT status publishes as "health".
  std::function<nlohmann::json()> health;
  std::function<const http::Server*()> server;  // for its own counters

  // Who a request is from (docs/api.md, "Authentication"): every /api/ route but /api/login
  // asks it, and nobody (nullopt) is 401. Null: console_routes sets the console's own
  // (`session_authenticate`: a bearer token through `verify_bearer`, else the session cookie).
  std::function<std::optional<Principal>(const http::Request&)> authenticate;
  // Checks an account's password for POST /api/login. Null: every sign-in is refused.
  std::function<Expected<Principal>(std::string_view user, std::string_view password)>
      verify_password;
  // The same, for a check too slow for the loop (Argon2id): it starts the work (on a worker
  // thread) and calls `done` on the loop thread (post to it) once with the verdict. Taken over
  // verify_password when set; the loop goes on meanwhile.
  std::function<void(std::string user, std::string password,
                     std::function<void(Expected<Principal>)> done)>
      verify_password_async;
  // Runs a signed action (app/actions.hpp `run_signed`) as `account`, its password re-entered,
  // off the loop; `done` gets the answer on the loop thread. Null: the action routes answer 503.
  std::function<void(actions::Request r, std::string account, std::string password,
                     std::function<void(Expected<nlohmann::json>)> done)>
      act;
  // Checks a machine's bearer token. Null: no bearer token is accepted.
  std::function<std::optional<Principal>(std::string_view token)> verify_bearer;
  // Builds zone `zone`'s cold-chain report (HTML) for [from_ms, to_ms) off the loop (on the
  // signing worker, with its own connection) and calls `done` on the loop. Null: not offered.
  std::function<void(std::string zone, std::int64_t from_ms, std::int64_t to_ms,
                     std::function<void(Expected<std::string>)> done)>
      report;
  // The sessions; null: console_routes makes one with the default options.
  std::shared_ptr<SessionStore> sessions;
  // Live updates for GET /api/events; null: that route answers 503.
  std::shared_ptr<EventHub> events;
};

// The Content-Security-Policy of the console's pages: only the agent's own files, no inline
// script or style element, no framing.
inline constexpr const char* kConsoleCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

using BearerCheck = std::function<std::optional<Principal>(std::string_view token)>;
// A bearer token (checked by `verify_bearer`; null refuses) or else the session cookie.
std::optional<Principal> session_authenticate(const std::shared_ptr<SessionStore>& sessions,
                                              const BearerCheck& verify_bearer,
                                              const http::Request& req);
// The /api/ routes (docs/api.md) into `routes`; `s` has its sessions and authenticate set.
void add_api_routes(std::vector<http::Route>& routes, const ConsoleSources& s);

// /healthz is 503 past this loop lag (the worst of the last ten 1 s ticks).
inline constexpr double kUnhealthyLoopLagS = 2.0;

// The body of /metrics.
std::string render_metrics(const ConsoleSources& s);
// The body of /healthz and whether it is healthy: {"ok", "reasons": [...], "loop": {...},
// "database": {...}, plus the status's "health" members (store, scanners, problems)}.
std::pair<bool, nlohmann::json> health_report(const ConsoleSources& s);

std::vector<http::Route> console_routes(ConsoleSources s);

// Sign-in (`verify_password_async`) and signed actions (`act`) by the gateway's accounts
// (app/signing.hpp, app/actions.hpp), both run on `worker` off the loop. `agent_running`:
// an alarm acknowledgement is a request the running agent applies (true in the daemon).
void connect_accounts(ConsoleSources& s, boost::asio::io_context& io, SignWorker& worker,
                      bool agent_running);

// The server options for `console` settings.
http::ServerOptions server_options(const ConsoleSettings& c);

}  // namespace depot::app
