// Shared by the libFuzzer targets: a property check that aborts with the input shown.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/json_parse.hpp"

namespace depot::fuzz {

inline void require(bool ok, const char* what, std::string_view input) {
  if (ok) return;
  std::fprintf(stderr, "property failed: %s\ninput: %s\n", what, printable(input, 400).c_str());
  std::abort();
}

// A message for an operator: non-empty, valid UTF-8 (it goes into logs and JSON).
inline void require_message(const std::string& m, std::string_view input) {
  require(!m.empty(), "message is empty", input);
  require(valid_utf8(m), "message is not valid UTF-8", input);
}

}  // namespace depot::fuzz
