// What MqttLink hands to the loop (sync/mqtt_link.hpp, sync/inbound_queue.hpp).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace depot::sync {

// A message that arrived on a subscribed topic.
struct Inbound {
  std::string topic;
  std::string payload;
  std::optional<std::string> response_topic;  // MQTT 5
  std::optional<std::string> correlation;     // MQTT 5 correlation data
  // The payload's size when it was larger than a command may be (kMaxCommandBytes): then
  // `payload` is left empty, never copied (the message is refused by its size).
  std::size_t oversized = 0;
};

}  // namespace depot::sync
