// Why a TLS handshake with the broker fails, in OpenSSL's words. Paho reports a failed TLS
// connect only as a failed connect; after one, the link repeats the handshake itself (same CA,
// client certificate and host name check as Paho) to name the reason: "certificate has
// expired", "unable to get local issuer certificate", "hostname mismatch", a CA file that does
// not load, or the broker's alert. Blocking (bounded by `timeout`): call it off the loop.
#pragma once

#include <chrono>
#include <string>

#include "core/mqtt_config.hpp"

namespace depot::sync {

// The reason the handshake fails; "" when it succeeds (the failure was not TLS).
std::string tls_failure_reason(const std::string& host, int port, const MqttTls& tls,
                               std::chrono::milliseconds timeout);

}  // namespace depot::sync
