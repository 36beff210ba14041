// The verdict on one MQTT probe message: the number at JSON pointer `pointer` in `payload`, or
// why not (a kNoData reading naming the reason). Pure: bounded parse (64 KiB, depth 16), never
// throws. Fuzzed by tests/fuzz/mqtt_value_fuzz.cpp.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/coldchain/reading.hpp"

namespace depot::drivers {

// The largest payload read: a probe's reading is a few hundred bytes, Zigbee2MQTT's largest
// device states a few kB. A larger message is refused by its size before it is copied.
constexpr std::size_t kMaxProbePayloadBytes = 64 * 1024;

// The verdict on a payload of `bytes` bytes, more than kMaxProbePayloadBytes, without its text.
coldchain::SensorValue oversized_value(std::size_t bytes);

// `booleans`: a JSON true/false at the pointer reads as 1/0 (door contacts, e.g.
// Zigbee2MQTT's `contact`); otherwise only numbers are values.
coldchain::SensorValue mqtt_value(std::string_view payload, const std::string& pointer,
                                  bool booleans = false);

}  // namespace depot::drivers
