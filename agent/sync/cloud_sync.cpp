#include "sync/cloud_sync.hpp"


#include <algorithm>
#include <optional>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "base/resident.hpp"
#include "base/secret_file.hpp"
#include "core/json_parse.hpp"
#include "store/outbox.hpp"

namespace depot::sync {

nlohmann::json config_summary(const Config& c, std::string_view version) {
  nlohmann::json scanners = nlohmann::json::array();
  for (const auto& s : c.scanners)
    scanners.push_back({{"id", s.id}, {"driver", driver_name(s)}, {"role", to_string(s.role)}});
  nlohmann::json j{{"site", c.site},
                   {"gateway", c.gateway},
                   {"version", version},
                   {"log_level", c.log_level},
                   {"durability",
                    {{"synchronous", to_string(c.durability.synchronous)},
                     {"batch_max_movements", c.durability.batch_max_movements},
                     {"batch_max_ms", c.durability.batch_max_ms}}},
                   {"catalog_skus", c.catalog.size()},
                   {"scanners", scanners}};
  if (c.mqtt) {
    const auto& m = *c.mqtt;
    j["mqtt"] = {{"host", m.host},
                 {"port", m.port},
                 {"protocol", to_string(m.protocol)},
                 {"client_id", m.client_id},
                 {"tls", m.tls.has_value()},
                 {"client_cert", m.tls && !m.tls->cert.empty()},
                 {"username", m.username},
                 {"keepalive_s", m.keepalive_s},
                 {"max_inflight", m.max_inflight},
                 {"batch_records", m.batch_records},
                 {"batch_bytes", m.batch_bytes},
                 {"drain_per_s", m.drain_per_s},
                 {"outbox_budget_mb", m.outbox_budget_mb},
                 {"keep_delivered_h", m.keep_delivered_h},
                 {"backoff_min_s", m.backoff_min_s},
                 {"backoff_max_s", m.backoff_max_s},
                 {"signed_commands", !m.hmac_secret_file.empty()}};
  }
  return j;
}

CloudSync::CloudSync(boost::asio::io_context& io, const Config& config, store::Database& db,
                     store::Ledger& ledger, SyncHooks hooks)
    : io_(io),
      config_(config),
      db_(db),
      ledger_(ledger),
      hooks_(std::move(hooks)),
      topics_(config.site, config.gateway),
      stop_timer_(io),
      heartbeat_(io),
      give_back_timer_(io) {}

CloudSync::~CloudSync() = default;

Status CloudSync::start() {
  const auto& m = *config_.mqtt;
  LinkOptions lo;
  lo.mqtt = m;
  if (!m.password_file.empty()) {
    auto pw = read_secret_file(m.password_file, "mqtt.password_file", kPasswordRule);
    if (!pw) return pw.error();
    lo.password = *pw;
  }
  std::string secret;
  if (!m.hmac_secret_file.empty()) {
    auto s = read_secret_file(m.hmac_secret_file, "mqtt.hmac_secret_file", kHmacSecretRule);
    if (!s) return s.error();
    secret = *s;
  }
  lo.will_topic = topics_.status();
  lo.will_payload = status_offline(config_.site, config_.gateway, false);
  lo.subscribe = topics_.commands();

  auto inc = store::outbox_incarnation(db_, depot::new_id(), depot::wall_now());
  if (!inc) return inc.error();
  incarnation_ = *inc;
  log::info("database incarnation " + incarnation_.id + " (" + incarnation_.reason + ", since " +
            incarnation_.since + ")");

  PublisherOptions po;
  po.site = config_.site;
  po.gateway = config_.gateway;
  po.incarnation = incarnation_.id;
  po.max_inflight = m.max_inflight;
  po.batch_records = m.batch_records;
  po.batch_bytes = m.batch_bytes;
  po.drain_per_s = m.drain_per_s;
  po.budget_bytes = m.outbox_budget_mb * 1024 * 1024;
  po.keep_delivered_s = m.keep_delivered_h * 3600;

  link_ = std::make_unique<MqttLink>(
      io_, std::move(lo),
      MqttLink::Handlers{[this] { on_connected(); },
                         [this](const std::string& why) {
                           publisher_->offline();
                           log::warning("mqtt: " + why + "; next attempt in " +
                                        std::to_string(link_->last_delay().count()) +
                                        " ms (records stay queued)");
                         },
                         [this](Inbound in) { on_message(std::move(in)); }});
  publisher_ = std::make_unique<Publisher>(
      io_, db_, po,
      [this](const std::string& topic, std::string payload, Publisher::Done done) {
        return link_->publish(topic, std::move(payload), 1, false, std::move(done));
      },
      depot::mono_now_ns, depot::wall_now, depot::new_id);
  DeskHooks dh;
  dh.wall_now = depot::wall_now;
  dh.mono_now_ns = depot::mono_now_ns;
  dh.new_id = depot::new_id;
  dh.before_stock_change = hooks_.before_stock_change;
  dh.catalog_changed = hooks_.catalog_changed;
  dh.replenish_changed = hooks_.replenish_changed;
  dh.orders_changed = hooks_.orders_changed;
  dh.config_summary = config_summary(config_, hooks_.version);
  for (const auto& z : config_.zones) dh.zones.push_back(z.id);
  set_replenish_names(dh, config_.replenish);
  dh.site = config_.site;
  dh.gateway = config_.gateway;
  dh.site_zone = config_.site_zone;
  dh.catalog_skus = hooks_.catalog_skus;
  // stream.replay: the kept records again, in envelopes like the publisher's (QoS 1; the
  // delivery marks are not touched: these records were delivered before).
  dh.replay = [this](const std::string& stream, std::int64_t from,
                     std::int64_t to) -> Expected<std::int64_t> {
    const auto& mq = *config_.mqtt;
    std::vector<std::string> messages;
    std::optional<EnvelopeBuilder> b;
    auto fresh = [&] {
      b.emplace(config_.site, config_.gateway, stream, static_cast<std::size_t>(mq.batch_records),
                std::min(static_cast<std::size_t>(mq.batch_bytes), link_->payload_limit()),
                incarnation_.id);
    };
    fresh();
    auto n = store::outbox_visit(db_, stream, from - 1, to - from + 1,
                                 [&](std::int64_t seq, std::string_view payload) {
                                   if (seq > to) return false;
                                   if (!b->add(payload)) {
                                     messages.push_back(b->finish());
                                     fresh();
                                     b->add(payload);
                                   }
                                   return true;
                                 });
    if (!n) return n.error();
    if (b->records() > 0) messages.push_back(b->finish());
    auto run = std::make_shared<ReplayRun>();
    run->topic = topics_.stream(stream);
    for (auto& msg : messages) {
      if (msg.size() > link_->payload_limit()) {  // one record larger than the broker takes
        log::warning("stream.replay: a " + std::to_string(msg.size()) + "-byte " + stream +
                     " record is over the broker's maximum packet: not sent again");
        continue;
      }
      run->left.push_back(std::move(msg));
    }
    if (auto st = pump_replay(run); !st) return st.error();
    log::info("stream.replay: " + std::to_string(*n) + " " + stream + " record(s) " +
              std::to_string(from) + "-" + std::to_string(to) + " sent again");
    return *n;
  };
  desk_ = std::make_unique<CommandDesk>(db_, ledger_, secret, std::move(dh));

  publisher_->start();
  if (auto st = link_->start(); !st) return st;
  arm_heartbeat();
  log::info("mqtt: connecting to " + m.host + ":" + std::to_string(m.port) + " as " + m.client_id +
            " (MQTT " + std::string(to_string(m.protocol)) + (m.tls ? ", TLS" : "") +
            (m.tls && !m.tls->cert.empty() ? " with client cert" : "") + ")");
  return {};
}

Status CloudSync::pump_replay(const std::shared_ptr<ReplayRun>& run) {
  const auto window = static_cast<std::size_t>(std::clamp<std::int64_t>(config_.mqtt->max_inflight, 1, 16));
  while (!run->failed && run->in_flight < window && !run->left.empty()) {
    auto msg = std::move(run->left.front());
    run->left.pop_front();
    ++run->in_flight;
    auto st = link_->publish(run->topic, msg, 1, false, [this, run](bool ok, const std::string& why) {
      --run->in_flight;
      if (!ok) {
        if (!run->failed)
          log::warning("mqtt: replay to " + run->topic + " lost: " + why + "; " +
                       std::to_string(run->left.size()) + " more message(s) of it not sent");
        run->failed = true;
        return;
      }
      if (auto next = pump_replay(run); !next)
        log::warning("mqtt: replay to " + run->topic + ": " + next.error().message);
    });
    if (!st) {
      --run->in_flight;
      run->failed = true;
      return st;
    }
  }
  return {};
}

void CloudSync::publish_status_online() {
  StatusFacts f;
  f.version = hooks_.version;
  f.boot_time = hooks_.boot_time;
  f.ts = depot::wall_now();
  f.protocol = std::string(to_string(config_.mqtt->protocol));
  f.incarnation = incarnation_.id;
  f.incarnation_reason = incarnation_.reason;
  f.incarnation_since = incarnation_.since;
  if (auto d = store::outbox_depths(db_)) f.queue = std::move(*d);
  if (hooks_.health) f.health = hooks_.health();
  f.link = link_json();
  f.disk = disk_json();
  if (hooks_.config_sha256) f.config_sha256 = hooks_.config_sha256();
  f.status_s = config_.mqtt->status_s;
  auto st = link_->publish(topics_.status(), status_online(config_.site, config_.gateway, f), 1,
                           true, [](bool ok, const std::string& why) {
                             if (!ok) log::warning("mqtt: status not delivered: " + why);
                           });
  if (!st) log::warning("mqtt: status: " + st.error().message);
}

nlohmann::json CloudSync::link_json() const {
  const auto n = connects();
  return {{"connected", connected()}, {"connects", n}, {"reconnects", n > 0 ? n - 1 : 0}};
}

nlohmann::json CloudSync::disk_json() const {
  nlohmann::json j{{"budget_bytes", config_.mqtt->outbox_budget_mb * 1024 * 1024},
                   {"over_budget", publisher_ && publisher_->over_budget()}};
  if (auto b = store::database_bytes(db_)) j["database_bytes"] = *b;
  return j;
}

// The retained status is refreshed every mqtt.status_s while connected, so a fleet view
// never shows queue depths from the last connect (docs/protocol.md, "Status").
void CloudSync::arm_heartbeat() {
  heartbeat_.expires_after(std::chrono::seconds(config_.mqtt->status_s));
  heartbeat_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    if (link_ && link_->connected()) publish_status_online();
    arm_heartbeat();
  });
}

void CloudSync::reconfigured() {
  if (desk_) desk_->reconfigured(config_.replenish, config_summary(config_, hooks_.version));
}

void CloudSync::health_changed() {
  if (link_ && link_->connected() && !stopping_) publish_status_online();
}

void CloudSync::on_connected() {
  log::info("mqtt: connected to " + config_.mqtt->host + ":" + std::to_string(config_.mqtt->port) +
            "; draining the outbox");
  publish_status_online();
  publisher_->set_payload_limit(link_->payload_limit());
  publisher_->online();
  // The pages of the connect's code (a TLS handshake runs much of OpenSSL; then the
  // subscription, the status, the first drain) leave the resident set 10 s later, at most once
  // in 10 minutes: a link dropped after each CONNACK (a duplicate client id) reconnects every
  // second, and each give-back walks the page tables.
  const auto now_ns = mono_now_ns();
  if (pages_given_back_ns_ < 0 || now_ns - pages_given_back_ns_ >= 600'000'000'000LL) {
    pages_given_back_ns_ = now_ns;
    give_back_timer_.expires_after(std::chrono::seconds(10));
    give_back_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stopping_) give_back_file_pages("the cloud link's connect");
    });
  }
}

void CloudSync::on_message(Inbound in) {
  auto name = topics_.command_of(in.topic);  // (its own replies: dropped by the link)
  if (name.empty()) {
    log::warning("mqtt: ignoring a message on " + in.topic + ": not a command to this gateway");
    return;
  }
  if (stopping_) return;
  // An MQTT 5 response topic is used only when it is a plain topic that is not one of this
  // gateway's own; otherwise the command is refused on the default reply topic.
  auto topic = topics_.reply(name);
  std::string topic_problem;
  if (in.response_topic && !in.response_topic->empty()) {
    topic_problem = response_topic_problem(topics_.prefix(), *in.response_topic);
    if (topic_problem.empty()) topic = *in.response_topic;
  }
  nlohmann::json reply;
  if (in.oversized > 0)
    reply = desk_->refuse(name, "",
                          "the command is " + std::to_string(in.oversized) +
                              " bytes, more than the " + std::to_string(kMaxCommandBytes) +
                              " a command may have; it was not read (its id is unknown)");
  else if (!topic_problem.empty())
    reply = desk_->refuse(name, in.payload, topic_problem + "; the command was not applied");
  else
    reply = desk_->handle(name, in.payload);
  const bool ok = reply.value("ok", false);
  ++(ok ? (reply.contains("duplicate") ? command_counts_.duplicate : command_counts_.applied)
        : command_counts_.refused);
  if (ok)
    log::info("command " + printable(name, 80) + " " + reply["id"].dump() +
              (reply.contains("duplicate") ? ": duplicate id, not applied again" : ": applied"));
  else  // a flood of bad commands is not a flood of lines (each reply says why)
    log::write_limited(log::Level::kWarning, "command refused",
                       "command " + printable(name, 80) + " " + reply["id"].dump() +
                           " refused: " + reply["error"].get<std::string>());
  auto st = link_->publish(
      topic, reply.dump(), 1, false, reply_done(topic), in.correlation);
  if (!st) reply_not_sent(st.error().message);
  publisher_->poke();  // the command may have written records (count, snapshot, audit)
}

void CloudSync::command_outcome(std::string_view name, const nlohmann::json& reply) {
  publisher_->poke();
  if (stopping_) return;
  if (!link_->connected()) return reply_not_sent("not connected");
  auto topic = topics_.reply(name);
  auto st = link_->publish(topic, reply.dump(), 1, false, reply_done(topic));
  if (!st) reply_not_sent(st.error().message);
}

MqttLink::Done CloudSync::reply_done(const std::string& topic) {
  return [this, topic](bool delivered, const std::string& why) {
    if (delivered) return;
    ++command_counts_.replies_lost;
    log::write_limited(log::Level::kWarning, "mqtt: reply lost",
                       "mqtt: reply to " + topic + " lost: " + why);
  };
}

void CloudSync::reply_not_sent(const std::string& why) {
  ++command_counts_.replies_lost;
  log::write_limited(log::Level::kWarning, "mqtt: reply", "mqtt: reply: " + why);
}

CloudSync::CommandCounts CloudSync::command_counts() const {
  auto c = command_counts_;
  c.dropped = link_ ? link_->inbound_dropped() : 0;
  return c;
}

void CloudSync::wait_drained(std::chrono::steady_clock::time_point deadline,
                             std::function<void()> done) {
  if (!link_->connected() || publisher_->drained() ||
      std::chrono::steady_clock::now() >= deadline) {
    publisher_->stop();
    auto finish = std::make_shared<std::function<void()>>([this, done = std::move(done)]() mutable {
      if (!done) return;
      link_->stop(std::chrono::milliseconds(1000));
      auto d = std::move(done);
      done = nullptr;
      d();
    });
    if (link_->connected()) {
      // A clean disconnect sends no last will: say offline ourselves (retained), wait for
      // its PUBACK (at most half a second), then disconnect.
      auto st = link_->publish(
          topics_.status(), status_offline(config_.site, config_.gateway, true, depot::wall_now()),
          1, true, [finish](bool, const std::string&) { (*finish)(); });
      if (st) {
        stop_timer_.expires_after(std::chrono::milliseconds(500));
        stop_timer_.async_wait([finish](const boost::system::error_code&) { (*finish)(); });
        return;
      }
    }
    (*finish)();
    return;
  }
  stop_timer_.expires_after(std::chrono::milliseconds(20));
  stop_timer_.async_wait(
      [this, deadline, done = std::move(done)](const boost::system::error_code& ec) mutable {
        if (ec) return;
        wait_drained(deadline, std::move(done));
      });
}

void CloudSync::stop(std::chrono::milliseconds budget, std::function<void()> done) {
  stopping_ = true;
  heartbeat_.cancel();
  give_back_timer_.cancel();
  publisher_->poke();
  wait_drained(std::chrono::steady_clock::now() + budget, std::move(done));
}

}  // namespace depot::sync
