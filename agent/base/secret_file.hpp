// Reading the small secret files a config names (mqtt.password_file, mqtt.hmac_secret_file,
// audit_key_file): one reader, so `depot-agent check` refuses exactly what `run` would.
// Errors name the config key, the path and the rule. Thread-safety: none needed (no state).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace depot {

struct SecretRule {
  bool empty_ok = false;       // an empty file means "not used" (audit_key_file) rather than an error
  std::size_t min_bytes = 1;   // when not empty
  std::string_view hint = {};  // added to a too-short refusal ("e.g. head -c 32 /dev/urandom | base64")
};

// The file's content without its trailing newlines. `key` is the config key, for messages.
Expected<std::string> read_secret_file(const std::string& path, std::string_view key,
                                       const SecretRule& rule = {});

// The rule of each secret file. An empty credential means "not used" where the package creates
// it empty (systemd 252 refuses a unit whose credential file is missing): the audit key and the
// MQTT password (none sent). An HMAC secret file, when named, must hold one.
inline constexpr SecretRule kAuditKeyRule{true, 16, "e.g. head -c 32 /dev/urandom | base64"};
inline constexpr SecretRule kPasswordRule{true, 1, {}};
inline constexpr SecretRule kHmacSecretRule{false, 1, {}};

}  // namespace depot
