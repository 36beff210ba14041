// Cloud sync, assembled: the MQTT link (sync/mqtt_link), the outbox publisher
// (sync/publisher), the command desk (sync/commands) and the retained status topic. On each
// connection it publishes {"state":"online",...} retained on depot/v1/{site}/{gateway}/status
// (the last will, also retained, is {"state":"offline"}), then drains the outbox. Commands
// arriving under this gateway's own cmd/ topic are applied and answered on cmd/{name}/reply,
// or on the MQTT 5 response topic with its correlation data when the request carried one.
// Constructed only when the config has an `mqtt` section; without it the agent runs offline.
// Thread-safety: lives on the daemon's loop thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>

#include "core/config.hpp"
#include "store/database.hpp"
#include "store/ledger.hpp"
#include "store/outbox.hpp"
#include "sync/commands.hpp"
#include "sync/envelope.hpp"
#include "sync/mqtt_link.hpp"
#include "sync/publisher.hpp"

namespace depot::sync {

struct SyncHooks {
  std::string version;
  std::string boot_time;                      // RFC 3339 UTC
  // Commit pending scans before a command that changes or reads stock; an Error (scans still
  // waiting for the database) refuses the command (docs/protocol.md).
  std::function<Status()> before_stock_change;
  std::function<void()> catalog_changed;      // reload the in-memory catalog
  std::function<void()> replenish_changed;    // a proposal or campaign changed by command
  std::function<void(const orders::Change&)> orders_changed;  // reservations, by command
  std::function<nlohmann::json()> health;     // scanners and store, for the status topic
  std::function<std::size_t()> catalog_skus;  // active SKUs now (config.get); unset: config's
  std::function<std::string()> config_sha256;  // of the config file now loaded (the status)
};

class CloudSync {
 public:
  // REQUIRES: config.mqtt is set.
  CloudSync(boost::asio::io_context& io, const Config& config, store::Database& db,
            store::Ledger& ledger, SyncHooks hooks);
  ~CloudSync();

  // Reads the password and HMAC secret files (errors name the file) and starts connecting.
  Status start();
  // New records may be in the outbox.
  void poke() { publisher_->poke(); }
  // The final outcome of a command answered earlier as queued (alarm.ack): published on
  // cmd/{name}/reply when connected (its `audit` record is in the outbox either way).
  void command_outcome(std::string_view name, const nlohmann::json& reply);
  // Shutdown: keeps publishing what is queued for at most `budget` (while connected), then
  // publishes {"state":"offline"} retained, disconnects and calls `done` on the loop.
  void stop(std::chrono::milliseconds budget, std::function<void()> done);

  const Publisher& publisher() const { return *publisher_; }
  // Connections made so far (reconnects: one less); 0 before the first.
  std::uint64_t connects() const { return link_ ? link_->connects() : 0; }
  // {"connected", "connects", "reconnects"} and {"budget_bytes", "database_bytes",
  // "over_budget"}: as the status publishes them (also /healthz and /metrics).
  nlohmann::json link_json() const;
  nlohmann::json disk_json() const;
  // The agent's health changed (a scanner down or up, the database failing): the retained
  // status is published again while connected.
  void health_changed();
  bool connected() const { return link_ && link_->connected(); }
  // A reload changed the config this was built with, in place (its replenishment settings
  // and log level; the rest waits for a restart): the command desk checks catalog.upsert's
  // policy and source.stock's source against the new ones, and config.get reports it.
  void reconfigured();
  // Cloud commands since the start, by outcome (as /metrics shows them).
  struct CommandCounts {
    std::uint64_t applied = 0;
    std::uint64_t duplicate = 0;     // an id already applied: answered, not applied again
    std::uint64_t refused = 0;       // invalid, unsigned, too large, ...: answered ok=false
    std::uint64_t dropped = 0;       // not handled: too many waiting (no reply went out)
    std::uint64_t replies_lost = 0;  // replies the broker did not take or acknowledge
  };
  CommandCounts command_counts() const;
  // Why the link is down ("" while connected or before the first attempt ended), e.g.
  // "connecting to host:8883 failed (...): TLS: ... certificate has expired".
  std::string link_problem() const { return link_ ? link_->problem() : std::string(); }

 private:
  void on_connected();
  void on_message(Inbound in);
  // A reply's completion: counts and logs one the broker did not acknowledge.
  MqttLink::Done reply_done(const std::string& topic);
  void reply_not_sent(const std::string& why);
  void publish_status_online();
  void arm_heartbeat();
  // stream.replay's messages, published a window at a time as the broker acknowledges them:
  // all at once overran Paho's buffer part way (MQTT error -12), and the publisher's sends
  // and command replies failed with it.
  struct ReplayRun {
    std::deque<std::string> left;
    std::string topic;
    std::size_t in_flight = 0;
    bool failed = false;
  };
  Status pump_replay(const std::shared_ptr<ReplayRun>& run);
  void wait_drained(std::chrono::steady_clock::time_point deadline, std::function<void()> done);

  boost::asio::io_context& io_;
  const Config& config_;
  store::Database& db_;
  store::Ledger& ledger_;
  SyncHooks hooks_;
  Topics topics_;
  std::unique_ptr<MqttLink> link_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<CommandDesk> desk_;
  boost::asio::steady_timer stop_timer_;
  boost::asio::steady_timer heartbeat_;  // the retained status again every mqtt.status_s
  bool stopping_ = false;
  boost::asio::steady_timer give_back_timer_;  // on_connected: file pages given back 10 s later
  std::int64_t pages_given_back_ns_ = -1;     // on_connected: when last armed (mono_now_ns)
  store::Incarnation incarnation_;
  CommandCounts command_counts_;
};

// The running configuration as config.get reports it: no secrets (file paths only).
nlohmann::json config_summary(const Config& config, std::string_view version);

}  // namespace depot::sync
