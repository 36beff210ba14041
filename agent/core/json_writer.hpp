// Writing one flat JSON object straight into a string, for the hot paths where building an
// nlohmann::json per record costs more than the work around it: the outbox record of every
// movement and the rows of `stock --json`. Strings are escaped per RFC 8259 (quote,
// backslash, control characters as \uXXXX); bytes >= 0x80 pass through (UTF-8). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace depot {

// Appends `s` as a JSON string literal (with quotes) to `out`.
void append_json_string(std::string& out, std::string_view s);

// Keys are written as they are: REQUIRES every key to be one of the program's own names (no
// quote, backslash or control character; checked by an assert in debug builds).
class JsonObjectWriter {
 public:
  explicit JsonObjectWriter(std::string& out) : out_(out) { out_.push_back('{'); }
  JsonObjectWriter& field(std::string_view key, std::string_view value);
  JsonObjectWriter& field(std::string_view key, const std::string& value) {
    return field(key, std::string_view(value));
  }
  JsonObjectWriter& field(std::string_view key, const char* value) {
    return field(key, std::string_view(value));
  }
  JsonObjectWriter& field(std::string_view key, std::int64_t value);
  JsonObjectWriter& field(std::string_view key, bool value);
  JsonObjectWriter& field(std::string_view key, const std::optional<std::string>& value);
  JsonObjectWriter& field(std::string_view key, const std::optional<std::int64_t>& value);
  JsonObjectWriter& null(std::string_view key);
  // `json` is written as it is: REQUIRES valid JSON text (one value) made by the caller.
  JsonObjectWriter& raw(std::string_view key, std::string_view json);
  // A real number in its shortest round-trip form; null when not finite (JSON has no inf).
  JsonObjectWriter& number(std::string_view key, double value);
  // Closes the object. REQUIRES: called once, last.
  void close() { out_.push_back('}'); }

 private:
  void key(std::string_view k);
  std::string& out_;
  bool first_ = true;
};

}  // namespace depot
