// The pure half of the MQTT probe driver: one message's payload to a reading. No I/O, no
// Paho: the fuzz target (tests/fuzz/mqtt_value_fuzz.cpp) links this file alone.
#include "sensor/mqtt/mqtt_value.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/json_fields.hpp"
#include "core/json_parse.hpp"

namespace depot::drivers {

namespace {
constexpr JsonLimits kPayloadLimits{.max_bytes = kMaxProbePayloadBytes, .max_depth = 16};
}  // namespace

coldchain::SensorValue oversized_value(std::size_t bytes) {
  return coldchain::SensorValue::rejected(
      coldchain::Quality::kNoData, "payload refused: it is " + std::to_string(bytes) +
                                       " bytes; at most " +
                                       std::to_string(kMaxProbePayloadBytes) + " are accepted");
}

coldchain::SensorValue mqtt_value(std::string_view payload, const std::string& pointer,
                                  bool booleans) {
  using coldchain::Quality;
  using coldchain::SensorValue;
  if (payload.empty()) return SensorValue::rejected(Quality::kNoData, "empty payload");
  if (payload.size() > kMaxProbePayloadBytes) return oversized_value(payload.size());
  // Outside input: bounded in size and depth while parsing (a payload nested 60,000 deep
  // overflowed the stack of nlohmann's recursive parser), UTF-8 checked, never throws.
  auto parsed = parse_json(payload, kPayloadLimits);
  if (!parsed) {
    const auto& why = parsed.error().message;
    if (why.rfind("not valid JSON", 0) == 0)
      return SensorValue::rejected(
          Quality::kNoData, "payload is not JSON: " + describe(std::string(payload.substr(0, 40))));
    return SensorValue::rejected(Quality::kNoData, "payload refused: " + why);
  }
  const nlohmann::json& doc = *parsed;
  const nlohmann::json* at = nullptr;
  try {
    nlohmann::json::json_pointer ptr(pointer);
    if (doc.contains(ptr)) at = &doc.at(ptr);
  } catch (const std::exception&) {
    at = nullptr;
  }
  // The pointer comes from config, but the reason goes into logs and JSON records: printable.
  const std::string shown = pointer.empty() ? "\"\"" : printable(pointer, 200);
  if (!at)
    return SensorValue::rejected(Quality::kNoData,
                                 "JSON pointer " + shown + " missing in payload");
  if (booleans && at->is_boolean()) return SensorValue::good(at->get<bool>() ? 1.0 : 0.0);
  if (!at->is_number())
    return SensorValue::rejected(Quality::kNoData,
                                 "not a number at JSON pointer " + shown + ": " + describe(*at));
  const double c = at->get<double>();
  if (!std::isfinite(c))
    return SensorValue::rejected(Quality::kNoData, "not a finite number at " + shown);
  return SensorValue::good(c);
}

}  // namespace depot::drivers
