// The `mqtt` section of the config: how the agent reaches the cloud broker, and how it drains
// its outbox (in-flight window, batch limits, drain rate, disk budget, reconnect backoff).
// An absent section means sync is off: the agent runs offline, which is a normal state, and
// the outbox simply grows. config/README.md documents every key with its default.
// Pure: validation only; file paths are kept as written (the app resolves them against the
// config file's folder, and sync/ reads the files).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/json_fields.hpp"

namespace depot {

enum class MqttProtocol { kV311, kV5 };
std::string_view to_string(MqttProtocol p);

struct MqttTls {
  std::string ca;    // CA certificate(s), PEM: the broker's certificate must chain to it
  std::string cert;  // client certificate, PEM (mutual TLS); "" = none
  std::string key;   // its private key, PEM; set exactly when `cert` is
  bool operator==(const MqttTls&) const = default;
};

// Bytes of an MQTT PUBLISH besides its payload allowed for (fixed header, topic, properties):
// a batch of `batch_bytes` must fit the broker's `max_packet_bytes` with this to spare.
inline constexpr std::int64_t kMqttPacketOverhead = 1024;
// The smallest payload limit the agent works with: a record up to this size is never given up
// for being too large (a data_loss record itself is about 1 KB). A broker must take packets of
// kMinPayloadLimit + kMqttPacketOverhead bytes.
inline constexpr std::int64_t kMinPayloadLimit = 8192;

struct MqttSettings {
  std::string host;          // required
  std::int64_t port = 1883;  // 8883 when `tls` is given
  MqttProtocol protocol = MqttProtocol::kV311;
  std::string client_id;  // default "{site}-{gateway}"
  std::optional<MqttTls> tls;
  std::string username;       // "" = none
  std::string password_file;  // "" = none; the file's content, a trailing newline cut
  std::int64_t keepalive_s = 30;
  std::int64_t max_inflight = 16;        // batches published and not yet acknowledged
  std::int64_t batch_records = 200;      // records per message, at most...
  std::int64_t batch_bytes = 64 * 1024;  // ...and payload bytes per message, at most
  std::int64_t max_packet_bytes = 131072;  // the broker's largest accepted packet (AWS IoT)
  std::int64_t drain_per_s = 2000;       // records per second leaving the outbox; 0 = no limit
  std::int64_t outbox_budget_mb = 256;   // past it, telemetry is thinned, then dropped
  std::int64_t keep_delivered_h = 24;    // delivered records kept for stream.replay; 0 = not
  std::int64_t backoff_min_s = 1;        // reconnect delay bounds (exponential, full jitter)
  std::int64_t backoff_max_s = 300;
  std::string hmac_secret_file;  // "" = commands are not signed
  std::int64_t status_s = 60;    // the retained status is published again this often
  bool operator==(const MqttSettings&) const = default;
};

// Reads `mqtt` into `out`, recording every problem in `problems` (paths "mqtt.*").
// `site` and `gateway` give the default client id.
void read_mqtt_settings(const nlohmann::json& j, Problems& problems, const std::string& site,
                        const std::string& gateway, std::optional<MqttSettings>& out);

}  // namespace depot
