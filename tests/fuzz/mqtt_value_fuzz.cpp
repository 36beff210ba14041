// libFuzzer target for drivers::mqtt_value, the verdict on an MQTT probe's message (Zigbee2MQTT,
// Tasmota, Shelly payloads: outside input from any device on the broker). The input is the JSON
// pointer up to the first newline, then the payload. Properties: it never throws or crashes; a
// good reading is a finite number that is the number at that pointer in the payload; a refusal
// is kNoData with a printable UTF-8 reason.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "sensor/mqtt/mqtt_value.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace depot;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nl = in.find('\n');
  const std::string pointer(nl == std::string_view::npos ? std::string_view{} : in.substr(0, nl));
  const std::string_view payload = nl == std::string_view::npos ? in : in.substr(nl + 1);

  const coldchain::SensorValue v = drivers::mqtt_value(payload, pointer);
  if (v.quality != coldchain::Quality::kGood) {
    fuzz::require(v.quality == coldchain::Quality::kNoData, "a refusal is not kNoData", in);
    fuzz::require_message(v.reason, in);
    return 0;
  }
  fuzz::require(v.reason.empty(), "a good reading carries a reason", in);
  fuzz::require(std::isfinite(v.celsius), "a good reading is not finite", in);
  // Independently: the accepted payload parses under the same bounds, and the pointer names
  // that very number.
  auto doc = parse_json(payload, JsonLimits{64 * 1024, 16});
  fuzz::require(doc.ok(), "accepted a payload the bounded parser refuses", in);
  nlohmann::json::json_pointer ptr(pointer);  // accepted, so the pointer is well formed
  fuzz::require(doc->contains(ptr) && doc->at(ptr).is_number(), "no number at the pointer", in);
  fuzz::require(doc->at(ptr).get<double>() == v.celsius, "value differs from the pointer's", in);
  return 0;
}
