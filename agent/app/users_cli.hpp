// `depot-agent users add|passwd|disable|enable|list`: the gateway's local accounts
// (app/signing.hpp). Passwords come from --password-file (its first line) or are asked on the
// terminal without echo, twice; they are never taken from the command line (it is visible
// in `ps` and shell history). Who administers is the Unix user running the command ("cli:NAME"
// in the audit trail): whoever may write the database may manage its accounts.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace depot::app {

std::optional<int> run_users_cli(std::string_view cmd, int argc, char** argv, std::ostream& out,
                                 std::ostream& err);

// Reads a password: the first line of `file` when given, else from the terminal without echo
// (asked twice when `confirm`). Errors name the option or say there is no terminal.
struct PasswordPrompt {
  std::optional<std::string> file;
  std::string prompt = "password: ";
  bool confirm = false;
};
std::optional<std::string> read_password(const PasswordPrompt& p, std::string& error);

extern const char* const kUsersUsage;

}  // namespace depot::app
