// What MqttLink hands to the loop (sync/mqtt_link.hpp, sync/inbound_queue.hpp).
#pragma once

#include <optional>
#include <string>

namespace depot::sync {

// A message that arrived on a subscribed topic.
struct Inbound {
  std::string topic;
  std::string payload;
  std::optional<std::string> response_topic;  // MQTT 5
  std::optional<std::string> correlation;     // MQTT 5 correlation data
};

}  // namespace depot::sync
