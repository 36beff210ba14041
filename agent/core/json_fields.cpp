#include "core/json_fields.hpp"

#include "core/json_parse.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace depot {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

const char* type_name(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

}  // namespace

void Problems::add(std::string_view path, std::string_view message) {
  std::string line(path.empty() ? "(top level)" : path);
  line += ": ";
  line += message;
  items_.push_back(std::move(line));
}

std::string describe(const nlohmann::json& value) {
  std::string s = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > 60) {
    std::size_t cut = 57;  // never inside a UTF-8 sequence: the message may go into JSON
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s = s.substr(0, cut) + "...";
  }
  return s;
}

bool is_identifier(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
  });
}

ObjectReader::ObjectReader(const nlohmann::json& value, std::string path, Problems& problems)
    : path_(std::move(path)), problems_(problems) {
  if (value.is_object()) {
    object_ = &value;
  } else {
    problems_.add(path_, describe(value) + " must be an object, not " + type_name(value));
  }
}

std::string ObjectReader::path_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const nlohmann::json* ObjectReader::get(std::string_view key, bool required) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  if (!object_) return nullptr;
  auto it = object_->find(key);
  if (it == object_->end()) {
    if (required) problems_.add(path_of(key), "is required");
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> ObjectReader::string(std::string_view key, bool required) {
  const auto* v = get(key, required);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    problems_.add(path_of(key), describe(*v) + " must be a string, not " + type_name(*v));
    return std::nullopt;
  }
  auto s = v->get<std::string>();
  if (required && s.empty()) {
    problems_.add(path_of(key), "\"\" must not be empty");
    return std::nullopt;
  }
  return s;
}

std::string ObjectReader::string_or(std::string_view key, std::string fallback) {
  auto s = string(key, false);
  return s ? *s : std::move(fallback);
}

std::optional<std::string> ObjectReader::text(std::string_view key, bool required,
                                              std::size_t max_bytes) {
  auto s = string(key, required);
  if (!s) return std::nullopt;
  if (auto rule = text_rule(*s, max_bytes); !rule.empty()) {
    problems_.add(path_of(key), rule);
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> ObjectReader::identifier(std::string_view key, bool required) {
  auto s = string(key, required);
  if (!s) return std::nullopt;
  if (!is_identifier(*s)) {
    problems_.add(path_of(key), describe(*s) +
                                    " must be 1-64 characters of letters, digits, '_', '-' or '.'");
    return std::nullopt;
  }
  return s;
}

std::optional<std::int64_t> ObjectReader::integer(std::string_view key, bool required,
                                                  std::int64_t min, std::int64_t max) {
  const auto* v = get(key, required);
  if (!v) return std::nullopt;
  auto rule = [&] {
    if (min != std::numeric_limits<std::int64_t>::min() &&
        max != std::numeric_limits<std::int64_t>::max())
      return "must be between " + std::to_string(min) + " and " + std::to_string(max);
    if (min != std::numeric_limits<std::int64_t>::min())
      return "must be at least " + std::to_string(min);
    if (max != std::numeric_limits<std::int64_t>::max())
      return "must be at most " + std::to_string(max);
    return std::string("is too large");
  };
  // A whole number too large for 64 bits is read as a float (18446744073709551616 as
  // 1.8446744073709552e+19): out of range, not "not an integer".
  const bool whole_float = v->is_number_float() && std::isfinite(v->get<double>()) &&
                           std::trunc(v->get<double>()) == v->get<double>() &&
                           std::fabs(v->get<double>()) >= 9.2e18;
  const bool too_large =
      v->is_number_unsigned() &&
      v->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (whole_float || too_large) {
    problems_.add(path_of(key), describe(*v) + " " + rule());
    return std::nullopt;
  }
  if (!v->is_number_integer() && !v->is_number_unsigned()) {
    problems_.add(path_of(key), describe(*v) + " must be an integer, not " + type_name(*v));
    return std::nullopt;
  }
  auto n = v->get<std::int64_t>();
  if (n < min || n > max) {
    problems_.add(path_of(key), std::to_string(n) + " " + rule());
    return std::nullopt;
  }
  return n;
}

std::int64_t ObjectReader::integer_or(std::string_view key, std::int64_t fallback,
                                      std::int64_t min, std::int64_t max) {
  auto n = integer(key, false, min, max);
  return n ? *n : fallback;
}

std::optional<double> ObjectReader::number(std::string_view key, bool required) {
  const auto* v = get(key, required);
  if (!v) return std::nullopt;
  if (!v->is_number()) {
    problems_.add(path_of(key), describe(*v) + " must be a number, not " + type_name(*v));
    return std::nullopt;
  }
  return v->get<double>();
}

std::optional<bool> ObjectReader::boolean(std::string_view key, bool required) {
  const auto* v = get(key, required);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    problems_.add(path_of(key), describe(*v) + " must be true or false, not " + type_name(*v));
    return std::nullopt;
  }
  return v->get<bool>();
}

const nlohmann::json* ObjectReader::array(std::string_view key, bool required) {
  const auto* v = get(key, required);
  if (!v) return nullptr;
  if (!v->is_array()) {
    problems_.add(path_of(key), describe(*v) + " must be an array, not " + type_name(*v));
    return nullptr;
  }
  return v;
}

const nlohmann::json* ObjectReader::object(std::string_view key, bool required) {
  const auto* v = get(key, required);
  if (!v) return nullptr;
  if (!v->is_object()) {
    problems_.add(path_of(key), describe(*v) + " must be an object, not " + type_name(*v));
    return nullptr;
  }
  return v;
}

std::optional<std::string> ObjectReader::one_of(std::string_view key, bool required,
                                                const std::vector<std::string_view>& choices) {
  auto s = string(key, required);
  if (!s) return std::nullopt;
  if (std::find(choices.begin(), choices.end(), *s) != choices.end()) return s;
  std::string list;
  for (auto c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
  problems_.add(path_of(key), describe(*s) + " must be one of: " + list);
  return std::nullopt;
}

void ObjectReader::finish() {
  if (finished_ || !object_) return;
  finished_ = true;
  bool sorted = false;
  for (const auto& [key, value] : object_->items()) {
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    if (!sorted) {  // the closest known key, the first in sorted order on a tie
      std::sort(known_.begin(), known_.end());
      sorted = true;
    }
    std::string best;
    std::size_t best_d = 3;  // suggest only close matches
    for (const auto& k : known_) {
      auto d = edit_distance(key, k);
      if (d < best_d) best_d = d, best = k;
    }
    problems_.add(path_of(key), best.empty() ? "unknown key"
                                             : "unknown key (did you mean \"" + best + "\"?)");
  }
}

}  // namespace depot
