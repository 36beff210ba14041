// Reading a JSON document field by field while collecting every problem, not just the first.
// Each problem names the JSON path, the offending value and the rule it breaks, e.g.
//   zones[1].max_c: -25 must be greater than min_c -18
//   catalog[0].nmae: unknown key (did you mean "name"?)
// Used for the config file and, later, for cloud command payloads. Pure; no I/O.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace depot {

class Problems {
 public:
  void add(std::string_view path, std::string_view message);
  void append(Problems&& other) {
    for (auto& item : other.items_) items_.push_back(std::move(item));
    other.items_.clear();
  }
  bool empty() const { return items_.empty(); }
  const std::vector<std::string>& items() const { return items_; }

 private:
  std::vector<std::string> items_;
};

// A short, printable rendering of a JSON value for messages (strings quoted, long ones cut).
std::string describe(const nlohmann::json& value);

// Reads the members of one JSON object. Every getter records the key as known; `finish()`
// (also run by the destructor) reports each member that no getter asked for as unknown.
// When the value is not an object, one problem is recorded and every getter returns nothing.
class ObjectReader {
 public:
  ObjectReader(const nlohmann::json& value, std::string path, Problems& problems);
  ~ObjectReader() { finish(); }
  ObjectReader(const ObjectReader&) = delete;
  ObjectReader& operator=(const ObjectReader&) = delete;

  bool is_object() const { return object_ != nullptr; }
  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const;
  Problems& problems() { return problems_; }

  // The member, or nullptr when absent (a problem is recorded when `required`).
  const nlohmann::json* get(std::string_view key, bool required);

  std::optional<std::string> string(std::string_view key, bool required);
  std::string string_or(std::string_view key, std::string fallback);
  // Free text shown to people (a name, a unit): well-formed UTF-8 of at most `max_bytes`,
  // without control characters (text_rule, core/json_parse.hpp).
  std::optional<std::string> text(std::string_view key, bool required, std::size_t max_bytes);
  // A string naming an identifier: 1-64 of [A-Za-z0-9_.-].
  std::optional<std::string> identifier(std::string_view key, bool required);
  std::optional<std::int64_t> integer(std::string_view key, bool required,
                                      std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                                      std::int64_t max = std::numeric_limits<std::int64_t>::max());
  std::int64_t integer_or(std::string_view key, std::int64_t fallback, std::int64_t min,
                          std::int64_t max);
  std::optional<double> number(std::string_view key, bool required);
  std::optional<bool> boolean(std::string_view key, bool required);
  // The member if it is an array (a problem otherwise), or nullptr.
  const nlohmann::json* array(std::string_view key, bool required);
  // The member if it is an object (a problem otherwise), or nullptr.
  const nlohmann::json* object(std::string_view key, bool required);
  // A string that must be one of `choices`.
  std::optional<std::string> one_of(std::string_view key, bool required,
                                    const std::vector<std::string_view>& choices);

  void finish();

 private:
  const nlohmann::json* object_ = nullptr;
  std::string path_;
  Problems& problems_;
  // The keys asked for, in the order asked: a handful per object, so a vector of short strings
  // (most without an allocation) beats a tree; a 100,000-entry catalog asks 1.5 million times.
  std::vector<std::string> known_;
  bool finished_ = false;
};

// True for 1-64 characters of [A-Za-z0-9_.-] (safe in MQTT topics, file names and SQL text).
bool is_identifier(std::string_view s);

}  // namespace depot
