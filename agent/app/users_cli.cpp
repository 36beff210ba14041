#include "app/users_cli.hpp"

#include <pwd.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/args.hpp"
#include "app/cli_kit.hpp"
#include "app/config_file.hpp"
#include "app/signing.hpp"
#include "app/store_access.hpp"
#include "base/file_read.hpp"
#include "core/json_parse.hpp"

namespace depot::app {

const char* const kUsersUsage = R"(  users add ID --role operator|quality|buyer|admin --name "FULL NAME" [--password-file F] [-c FILE]
  users passwd ID [--password-file F] [-c FILE]
  users disable|enable ID [-c FILE]
  users list [--json] [-c FILE]        local accounts that sign actions (password asked on
                                       the terminal, or the first line of --password-file)
  tokens add NAME [-c FILE]            a bearer token for a machine reading the console's API
                                       (printed once; it signs nothing)
  tokens revoke NAME [-c FILE]
  tokens list [--json] [-c FILE]
)";

namespace {


std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string unix_user() {
  if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_name) return pw->pw_name;
  return "uid" + std::to_string(::geteuid());
}

std::string ask(const std::string& prompt) {
  std::fputs(prompt.c_str(), stderr);
  termios old{};
  const bool tty = ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  std::fputs("\n", stderr);
  return line;
}

}  // namespace

std::optional<std::string> read_password(const PasswordPrompt& p, std::string& error) {
  if (p.file) {
    // Bounded, and never waiting on a FIFO nobody writes to; `<(pass show x)` is read, with
    // time for a pinentry prompt.
    const FileReadRules rules{64 * 1024, true, std::chrono::minutes(10)};
    auto read = read_file_bounded(*p.file, rules);
    const std::string named = "--password-file: \"" + printable(*p.file, 200) + "\" ";
    using O = FileRead::Outcome;
    switch (read.outcome) {
      case O::kRead:
        break;
      case O::kCannotRead:
        error = named + "cannot be read: " + std::strerror(read.err);
        return std::nullopt;
      case O::kNotRegular:
        error = named + not_regular_text(rules);
        return std::nullopt;
      case O::kPipeSilent:
        error = named + "(a pipe) was not written to its end within 10 minutes";
        return std::nullopt;
      case O::kTooLarge:
        error = named + "holds more than 64 KiB: not a password file";
        return std::nullopt;
    }
    // The first line (a password is at most 256 bytes: accounts::password_problem).
    std::string line = std::move(read.text);
    if (auto nl = line.find('\n'); nl != std::string::npos) line.resize(nl);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  if (!::isatty(STDIN_FILENO)) {
    error = "no terminal to ask the password on: give --password-file FILE";
    return std::nullopt;
  }
  auto first = ask(p.prompt);
  if (p.confirm && ask("again: ") != first) {
    error = "the two passwords differ";
    return std::nullopt;
  }
  return first;
}

Expected<CliSigner> cli_signer(store::Database& db, const SignerOptions& o,
                               accounts::Action action, std::string_view reason) {
  auto n = store::count_accounts(db);
  if (!n) return n.error();
  if (*n == 0) {
    if (o.user)
      return Error{"--user: this gateway has no accounts yet (create one with 'depot-agent users "
                   "add'), so sign with --who NAME",
                   ErrorKind::kBadInput};
    if (!o.who || o.who->empty())
      return Error{"--who NAME: required (the person signing; with accounts, --user ID)",
                   ErrorKind::kBadInput};
    if (auto bad = text_problem("--who", *o.who, 128); !bad.empty())
      return Error{bad, ErrorKind::kBadInput};
    return CliSigner{*o.who, false};
  }
  if (o.who)
    return Error{"--who: this gateway has accounts, so a typed name does not sign; sign with "
                 "--user ID (its password is asked, or read from --password-file)",
                 ErrorKind::kBadInput};
  if (!o.user || o.user->empty())
    return Error{"--user ID: required (the account signing; its password is asked, or read "
                 "from --password-file)",
                 ErrorKind::kBadInput};
  std::string error;
  PasswordPrompt prompt;
  prompt.file = o.password_file;
  prompt.prompt = "password for " + printable(*o.user, 64) + " (signing " +
                  std::string(accounts::to_string(action)) + "): ";
  auto password = read_password(prompt, error);
  if (!password) return Error{error, ErrorKind::kBadInput};
  auto s = sign(db, *o.user, *password, action, reason, now_ms());
  if (!s) return s.error();
  return CliSigner{s->account, true};
}

namespace {

using Ctx = CliContext;

int finish(Ctx& c, const Status& st, const std::string& done) {
  if (!st) {
    c.fail() << st.error().message << "\n";
    return st.error().is_bad_input() || st.error().kind == ErrorKind::kNotFound ? kBadInput
                                                                                 : kFailure;
  }
  c.out << done << "\n";
  return kOk;
}

int cmd_users(const Args& a, Ctx& c) {
  const auto& pos = a.positional();
  if (pos.empty()) {
    c.fail() << "say what: add, passwd, disable, enable or list\n";
    return kBadInput;
  }
  const std::string& what = pos[0];
  if (what != "list" && pos.size() < 2) {
    c.fail() << what << ": the account id is missing\n";
    return kBadInput;
  }
  auto loaded = cli_load_config(a, c);
  if (!loaded) return kBadInput;
  auto db = cli_open_database(*loaded, /*write=*/what != "list", c);
  if (!db) return kFailure;
  store::Database& d = *db;
  const std::string by = "cli:" + unix_user();
  if (what == "list") {
    auto list = store::list_accounts(d);
    if (!list) return finish(c, list.error(), "");
    const auto now = now_ms();
    if (a.has("--json")) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& u : *list)
        j.push_back({{"id", u.id},
                     {"name", u.name},
                     {"role", accounts::to_string(u.role)},
                     {"disabled", u.disabled},
                     {"locked", accounts::locked(u.lock, now)},
                     {"failures", u.lock.failures},
                     {"created_at", u.created_at},
                     {"changed_at", u.changed_at}});
      c.out << j.dump(2) << "\n";
      return kOk;
    }
    if (list->empty()) c.out << "no accounts: actions are signed with --who (free text)\n";
    for (const auto& u : *list)
      c.out << std::left << std::setw(20) << u.id << std::setw(10) << accounts::to_string(u.role)
            << u.name << (u.disabled ? "  DISABLED" : "")
            << (accounts::locked(u.lock, now) ? "  LOCKED" : "") << "\n";
    return kOk;
  }
  const std::string& id = pos[1];
  if (what == "add") {
    auto role_text = a.get("--role");
    auto role = role_text ? accounts::parse_role(*role_text) : std::nullopt;
    if (!role) {
      c.fail() << "--role: " << (role_text ? "\"" + printable(*role_text, 40) + "\"" : "required")
               << " must be operator, quality, buyer or admin\n";
      return kBadInput;
    }
    auto name = a.get("--name");
    if (!name || name->empty()) {
      c.fail() << "--name: required (the full name a signature shows)\n";
      return kBadInput;
    }
    std::string error;
    auto pw = read_password({a.get("--password-file"), "password for " + id + ": ", true}, error);
    if (!pw) {
      c.fail() << error << "\n";
      return kBadInput;
    }
    return finish(c, add_user(d, id, *name, *role, *pw, by, now_ms()),
                  "account " + id + " added (" + std::string(accounts::to_string(*role)) + ")");
  }
  if (what == "passwd") {
    std::string error;
    auto pw = read_password({a.get("--password-file"), "new password for " + id + ": ", true},
                            error);
    if (!pw) {
      c.fail() << error << "\n";
      return kBadInput;
    }
    return finish(c, set_password(d, id, *pw, by, now_ms()), "password of " + id + " changed");
  }
  if (what == "disable" || what == "enable")
    return finish(c, set_disabled(d, id, what == "disable", by, now_ms()),
                  "account " + id + " " + what + "d");
  c.fail() << "\"" << printable(what, 40) << "\" must be add, passwd, disable, enable or list\n";
  return kBadInput;
}

int cmd_tokens(const Args& a, Ctx& c) {
  const auto& pos = a.positional();
  const std::string what = pos.empty() ? "" : pos[0];
  if (what != "add" && what != "revoke" && what != "list") {
    c.fail() << "say what: add NAME, revoke NAME or list\n";
    return kBadInput;
  }
  if (what != "list" && pos.size() < 2) {
    c.fail() << what << ": the token's name is missing\n";
    return kBadInput;
  }
  auto loaded = cli_load_config(a, c);
  if (!loaded) return kBadInput;
  auto db = cli_open_database(*loaded, /*write=*/what != "list", c);
  if (!db) return kFailure;
  const std::string by = "cli:" + unix_user();
  if (what == "add") {
    auto token = issue_token(*db, pos[1], by, now_ms());
    if (!token) return finish(c, token.error(), "");
    c.out << *token << "\n";
    c.err << "token " << pos[1] << " issued: send it as 'Authorization: Bearer TOKEN'; it is "
          << "shown only now (the gateway keeps its SHA-256)\n";
    return kOk;
  }
  if (what == "revoke")
    return finish(c, revoke_token(*db, pos[1], by, now_ms()), "token " + pos[1] + " revoked");
  auto list = store::list_tokens(*db);
  if (!list) return finish(c, list.error(), "");
  if (a.has("--json")) {
    auto j = nlohmann::json::array();
    for (const auto& t : *list)
      j.push_back({{"name", t.name},
                   {"created_by", t.created_by},
                   {"created_at", t.created_at},
                   {"revoked_at", t.revoked_at ? nlohmann::json(*t.revoked_at) : nlohmann::json()}});
    c.out << j.dump(2) << "\n";
    return kOk;
  }
  if (list->empty()) c.out << "no tokens\n";
  for (const auto& t : *list)
    c.out << std::left << std::setw(24) << t.name << t.created_at << "  by " << t.created_by
          << (t.revoked_at ? "  REVOKED " + *t.revoked_at : std::string()) << "\n";
  return kOk;
}

}  // namespace

const std::vector<CliCommand>& users_commands() {
  static const std::vector<CliCommand> commands = {
      {"users",
       {kConfigOption, kJsonOption, {"--role", true, ""}, {"--name", true, ""},
        {"--password-file", true, ""}},
       cmd_users, 2},
      {"tokens", {kConfigOption, kJsonOption}, cmd_tokens, 2},
  };
  return commands;
}

}  // namespace depot::app
