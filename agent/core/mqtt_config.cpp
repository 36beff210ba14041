#include "core/mqtt_config.hpp"

namespace depot {

std::string_view to_string(MqttProtocol p) { return p == MqttProtocol::kV5 ? "5" : "3.1.1"; }

void read_mqtt_settings(const nlohmann::json& j, Problems& p, const std::string& site,
                        const std::string& gateway, std::optional<MqttSettings>& out) {
  ObjectReader r(j, "mqtt", p);
  if (!r.is_object()) return;
  const auto before = p.items().size();
  MqttSettings m;
  if (auto h = r.string("host", true)) {
    if (h->empty() || h->size() > 253 || h->find_first_of(" /:\t\r\n") != std::string::npos)
      p.add(r.path_of("host"), describe(*h) +
                                   " must be a host name or address (1-253 "
                                   "characters, no spaces, '/' or ':')");
    m.host = *h;
  }
  if (const auto* t = r.object("tls", false)) {
    ObjectReader tr(*t, r.path_of("tls"), p);
    MqttTls tls;
    if (auto s = tr.string("ca", true)) tls.ca = *s;
    tls.cert = tr.string_or("cert", "");
    tls.key = tr.string_or("key", "");
    if (tls.cert.empty() != tls.key.empty())
      p.add(tr.path_of(tls.cert.empty() ? "cert" : "key"),
            "is required when " + std::string(tls.cert.empty() ? "key" : "cert") +
                " is given (mutual TLS needs both the client certificate and its key)");
    m.tls = tls;
    m.port = 8883;
  }
  m.port = r.integer_or("port", m.port, 1, 65535);
  if (auto v = r.one_of("protocol", false, {"3.1.1", "5"}))
    m.protocol = *v == "5" ? MqttProtocol::kV5 : MqttProtocol::kV311;
  m.client_id = site + "-" + gateway;
  if (auto c = r.string("client_id", false)) {
    if (c->empty() || c->size() > 128 || c->find_first_of("+#/ ") != std::string::npos)
      p.add(r.path_of("client_id"),
            describe(*c) + " must be 1-128 characters without spaces, '/', '+' or '#'");
    m.client_id = *c;
  } else if (m.client_id.size() > 128) {  // site and gateway may be 64 characters each
    p.add(r.path_of("client_id"), "the default \"{site}-{gateway}\" is " +
                                      std::to_string(m.client_id.size()) +
                                      " characters, over MQTT's usual 128: set mqtt.client_id");
  }
  m.username = r.string_or("username", "");
  m.password_file = r.string_or("password_file", "");
  m.keepalive_s = r.integer_or("keepalive_s", m.keepalive_s, 5, 3600);
  m.max_inflight = r.integer_or("max_inflight", m.max_inflight, 1, 1000);
  m.batch_records = r.integer_or("batch_records", m.batch_records, 1, 10000);
  m.batch_bytes = r.integer_or("batch_bytes", m.batch_bytes, 1024, 16 * 1024 * 1024);
  m.max_packet_bytes =
      r.integer_or("max_packet_bytes", m.max_packet_bytes,
                   kMinPayloadLimit + kMqttPacketOverhead, 268435455);
  if (m.batch_bytes + kMqttPacketOverhead > m.max_packet_bytes)
    p.add(r.path_of("batch_bytes"),
          describe(m.batch_bytes) + " plus " + std::to_string(kMqttPacketOverhead) +
              " bytes for topic, properties and headers must not exceed max_packet_bytes " +
              std::to_string(m.max_packet_bytes));
  m.drain_per_s = r.integer_or("drain_per_s", m.drain_per_s, 0, 1000000);
  m.outbox_budget_mb = r.integer_or("outbox_budget_mb", m.outbox_budget_mb, 1, 1000000);
  m.keep_delivered_h = r.integer_or("keep_delivered_h", m.keep_delivered_h, 0, 8760);
  m.backoff_min_s = r.integer_or("backoff_min_s", m.backoff_min_s, 1, 3600);
  m.backoff_max_s = r.integer_or("backoff_max_s", m.backoff_max_s, 1, 86400);
  if (m.backoff_max_s < m.backoff_min_s)
    p.add(r.path_of("backoff_max_s"), describe(m.backoff_max_s) +
                                          " must not be less than backoff_min_s " +
                                          std::to_string(m.backoff_min_s));
  m.hmac_secret_file = r.string_or("hmac_secret_file", "");
  m.status_s = r.integer_or("status_s", m.status_s, 1, 86400);
  r.finish();
  if (p.items().size() == before) out = std::move(m);
}

}  // namespace depot
