// The one door for JSON text from outside: config files, cloud commands, probe payloads, HTTP
// bodies and JSON stored by an earlier run. It bounds the text's size and nesting depth
// while parsing (nothing recursive sees a deep document), refuses duplicate keys, trailing
// bytes after the document (a NUL included), numbers that overflow a double and invalid
// UTF-8, and never throws. Every refusal names what was wrong (and, for syntax errors, the line and column), in
// printable text that is itself safe to put into JSON.
// Also: UTF-8 checks for text that will be written into JSON (CLI options, scanner bytes).
// Pure; no I/O. Thread-safety: plain functions.
#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace depot {

struct JsonLimits {
  std::size_t max_bytes = 1 << 20;  // the whole text
  int max_depth = 32;               // objects and arrays nested in each other
  // Keep the first value of a duplicate key instead of refusing the text. Only to read what
  // a refused text's reply must echo (a cloud command's id), never to act on it.
  bool first_of_duplicates = false;
};

// The document in `text`, or an error such as
//   "nested deeper than 32 levels"
//   "duplicate key \"qty\""
//   "not valid JSON: parse error at line 1, column 3: syntax error while parsing value - ..."
Expected<nlohmann::json> parse_json(std::string_view text, const JsonLimits& limits = {});

// One array member of the top-level object handed over element by element while parsing, so
// a big array is never a JSON tree in memory: each element of `root[key]`, once complete, goes
// to `each` with its index and is then dropped; `root[key]` is left an empty array. Only when
// the document is an object and that member is an array; the other limits apply as above.
// `each` must not throw (an exception fails the parse as "not valid JSON").
struct ArrayStream {
  std::string_view key;
  std::function<void(const nlohmann::json& element, std::size_t index)> each;
};
Expected<nlohmann::json> parse_json(std::string_view text, const JsonLimits& limits,
                                    const ArrayStream& stream);

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view s);

// `s` with every byte that is not part of well-formed UTF-8, and every control character,
// written as \xNN: safe for a log line or a JSON string, and still says what came in.
std::string printable(std::string_view s, std::size_t max_chars = 200);

// Bounds on the free text people give with an action (who signs, comment, reason, order
// reference): in bytes of UTF-8.
inline constexpr std::size_t kMaxSignerBytes = 128;
inline constexpr std::size_t kMaxCommentBytes = 2000;

// Checks a text field that will be written into JSON: empty when it is well-formed UTF-8 of at
// most `max_bytes` without control characters, else the problem (naming `field`).
std::string text_problem(std::string_view field, std::string_view s, std::size_t max_bytes);
// The same rule without the field: empty, or what is wrong (for a reader that adds the path).
std::string text_rule(std::string_view s, std::size_t max_bytes);

}  // namespace depot
