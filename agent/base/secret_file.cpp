#include "base/secret_file.hpp"

#include <cstring>

#include "base/file_read.hpp"

namespace depot {

namespace {
// A secret is a line or a key: more than this is not a secret file (e.g. /dev/zero).
constexpr std::size_t kMaxSecretBytes = 64 * 1024;
}  // namespace

Expected<std::string> read_secret_file(const std::string& path, std::string_view key,
                                       const SecretRule& rule) {
  const std::string k(key);
  const FileReadRules rules{kMaxSecretBytes};
  auto read = read_file_bounded(path, rules);
  switch (read.outcome) {
    case FileRead::Outcome::kRead:
      break;
    case FileRead::Outcome::kCannotRead:
    case FileRead::Outcome::kPipeSilent:  // (no pipes here)
      return Error{k + ": \"" + path + "\" cannot be read: " + std::strerror(read.err),
                   ErrorKind::kBadInput};
    case FileRead::Outcome::kNotRegular:
      return Error{k + ": \"" + path + "\" " + not_regular_text(rules), ErrorKind::kBadInput};
    case FileRead::Outcome::kTooLarge:
      return Error{k + ": " + path + " holds more than " + std::to_string(kMaxSecretBytes) +
                       " bytes: not a secret file",
                   ErrorKind::kBadInput};
  }
  auto& text = read.text;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) {
    if (rule.empty_ok) return text;
    return Error{k + ": " + path + " is empty", ErrorKind::kBadInput};
  }
  if (text.size() < rule.min_bytes)
    return Error{k + ": " + path + " holds " + std::to_string(text.size()) +
                     " bytes; it must hold at least " + std::to_string(rule.min_bytes) +
                     (rule.hint.empty() ? std::string() : " (" + std::string(rule.hint) + ")"),
                 ErrorKind::kBadInput};
  return text;
}

}  // namespace depot
