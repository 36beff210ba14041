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

#include "app/args.hpp"
#include "app/cli_kit.hpp"
#include "core/accounts.hpp"
#include "core/error.hpp"

namespace depot::store {
class Database;
}

namespace depot::app {

// users add|passwd|disable|enable|list.
const std::vector<CliCommand>& users_commands();

// Reads a password: the first line of `file` when given, else from the terminal without echo
// (asked twice when `confirm`). Errors name the option or say there is no terminal.
struct PasswordPrompt {
  std::optional<std::string> file;
  std::string prompt = "password: ";
  bool confirm = false;
};
std::optional<std::string> read_password(const PasswordPrompt& p, std::string& error);

extern const char* const kUsersUsage;

// Who signs a state-changing CLI action (docs/operations.md, "Accounts and signatures").
// With accounts on the gateway: `--user ID`, its password re-entered now (the first line of
// `--password-file`, else asked on the terminal) and a role allowed to take `action`; a typed
// `--who` is refused. With no account yet: `--who NAME`, recorded as typed and marked
// unsigned (the gateway before its first `users add`). The Error names the option and why
// (kForbidden for a refused signature, kBadInput for a missing or bad option).
struct CliSigner {
  std::string who;  // the audit trail's signer: the account id, or the typed name
  bool signed_by_account = false;
};
struct SignerOptions {
  std::optional<std::string> user, who, password_file;
};
// The options every signed command takes (with `--who`).
inline constexpr OptionSpec kSignUser{"--user", true, ""};
inline constexpr OptionSpec kSignPasswordFile{"--password-file", true, ""};
inline SignerOptions signer_options(const Args& a) {
  return {a.get("--user"), a.get("--who"), a.get("--password-file")};
}
Expected<CliSigner> cli_signer(store::Database& db, const SignerOptions& o,
                               accounts::Action action, std::string_view reason);

}  // namespace depot::app
