#include "base/secret_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace depot {

Expected<std::string> read_secret_file(const std::string& path, std::string_view key,
                                       const SecretRule& rule) {
  const std::string k(key);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{k + ": cannot read " + path + ": " + std::strerror(errno), ErrorKind::kBadInput};
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return Error{k + ": cannot read " + path, ErrorKind::kBadInput};
  auto text = s.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) {
    if (rule.empty_ok) return text;
    return Error{k + ": " + path + " is empty", ErrorKind::kBadInput};
  }
  if (text.size() < rule.min_bytes)
    return Error{k + ": " + path + " holds " + std::to_string(text.size()) + " bytes; it must hold at least " +
                     std::to_string(rule.min_bytes) +
                     (rule.hint.empty() ? std::string() : " (" + std::string(rule.hint) + ")"),
                 ErrorKind::kBadInput};
  return text;
}

}  // namespace depot
