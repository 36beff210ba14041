#include "app/config_file.hpp"


#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "base/file_read.hpp"
#include "base/secret_file.hpp"
#include "core/tz.hpp"
#include "store/audit.hpp"

namespace depot::app {

LoadResult load_config_file(const std::string& path, bool fingerprint) {
  LoadResult r;
  // Read once (the same bytes are parsed and fingerprinted), into a string sized from the
  // file (a 100,000-SKU config is 20 MB), never more than one byte past the parser's limit
  // (a pipe has no size: the parser then names the limit; one without a writer reads empty).
  const FileReadRules rules{kMaxConfigBytes, true};
  auto read = read_file_bounded(path, rules);
  switch (read.outcome) {
    case FileRead::Outcome::kRead:
      break;
    case FileRead::Outcome::kCannotRead:
      r.problems.push_back(path + ": cannot read: " + std::strerror(read.err));
      return r;
    case FileRead::Outcome::kNotRegular:
      r.problems.push_back(path + ": " + not_regular_text(rules));
      return r;
    case FileRead::Outcome::kPipeSilent:
      r.problems.push_back(path + ": the pipe was not written to its end within " +
                           std::to_string(rules.pipe_wait.count() / 1000) + " s");
      return r;
    case FileRead::Outcome::kTooLarge:
      if (read.size > 0) {  // a file: its size is known
        r.problems.push_back(path + ": the file is " + std::to_string(read.size) +
                             " bytes; at most " + std::to_string(kMaxConfigBytes) +
                             " are accepted");
        return r;
      }
      break;  // a pipe: the parser names the limit
  }
  if (read.text.empty()) {  // (a FIFO that nobody writes to reads as empty)
    r.problems.push_back(path + ": is empty");
    return r;
  }
  std::string text = std::move(read.text);
  auto parsed = parse_config(text);
  if (!parsed.config) {
    r.problems = std::move(parsed.problems);
    return r;
  }
  LoadedConfig l;
  l.config = std::move(*parsed.config);
  l.path = path;
  if (fingerprint) l.sha256 = store::sha256_hex(text);
  text = std::string();
  // Files named by the config (the database, the mqtt section's, a named-pipe scanner's) are
  // relative to the config file's folder; a config given by a descriptor (`-c <(...)`,
  // /dev/stdin, /proc/PID/fd/N: it has no folder, /dev/fd is not one to write in) to the
  // current folder.
  const auto config_path = std::filesystem::absolute(path).lexically_normal();
  const auto& cp = config_path.string();
  const bool descriptor = cp == "/dev/stdin" || cp.rfind("/dev/fd/", 0) == 0 ||
                          (cp.rfind("/proc/", 0) == 0 &&
                           config_path.parent_path().filename() == "fd");  // /proc/PID/fd/N
  const auto base = descriptor ? std::filesystem::current_path() : config_path.parent_path();
  auto resolve = [&](std::string& f) {
    std::filesystem::path fp(f);
    if (!f.empty() && fp.is_relative()) f = (base / fp).lexically_normal().string();
  };
  l.database_path = l.config.database;
  resolve(l.database_path);
  for (auto& sc : l.config.scanners)
    if (auto* pipe = std::get_if<StdinSettings>(&sc.driver)) resolve(pipe->path);
  for (auto& sensor : l.config.sensors) resolve(sensor.mqtt.password_file);
  // The audit key: "$CREDENTIALS_DIRECTORY/..." names a systemd credential (LoadCredential=);
  // unset, the credential "audit-key" is used when systemd passed one.
  {
    auto& k = l.config.audit_key_file;
    const char* creds = std::getenv("CREDENTIALS_DIRECTORY");
    const std::string var = "$CREDENTIALS_DIRECTORY";
    if (k.rfind(var, 0) == 0) {
      k = std::string(creds ? creds : "") + k.substr(var.size());
    } else if (k.empty() && creds && *creds) {
      auto cred = std::filesystem::path(creds) / "audit-key";
      std::error_code ec;
      if (std::filesystem::exists(cred, ec)) k = cred.string();
    }
    resolve(k);
  }
  if (auto& m = l.config.mqtt) {
    resolve(m->password_file);
    resolve(m->hmac_secret_file);
    if (m->tls) {
      resolve(m->tls->ca);
      resolve(m->tls->cert);
      resolve(m->tls->key);
    }
  }
  if (auto& c = l.config.console) {
    // "$CREDENTIALS_DIRECTORY/..." names a systemd credential (LoadCredential=), as for the
    // audit key.
    const char* creds = std::getenv("CREDENTIALS_DIRECTORY");
    const std::string var = "$CREDENTIALS_DIRECTORY";
    for (auto* f : {&c->tls_cert, &c->tls_key}) {
      if (f->rfind(var, 0) == 0) *f = std::string(creds ? creds : "") + f->substr(var.size());
      resolve(*f);
    }
  }
  // The site's calendar: its zone file from the machine's tzdata ($TZDIR, else
  // /usr/share/zoneinfo), then campaign dates without a time settled in it.
  {
    const char* tzdir = std::getenv("TZDIR");
    const std::string file =
        std::string(tzdir && *tzdir ? tzdir : "/usr/share/zoneinfo") + "/" + l.config.site_timezone;
    const FileReadRules zone_rules{1'000'000};
    auto zone_file = read_file_bounded(file, zone_rules);
    using O = FileRead::Outcome;
    auto zone = zone_file.outcome == O::kRead
                    ? tz::parse_tzif(l.config.site_timezone, zone_file.text)
                : zone_file.outcome == O::kTooLarge
                    ? Expected<tz::Zone>(Error{file + " holds more than 1000000 bytes"})
                : zone_file.outcome == O::kNotRegular
                    ? Expected<tz::Zone>(Error{file + " " + not_regular_text(zone_rules)})
                    : Expected<tz::Zone>(Error{"cannot read " + file + ": " +
                                               std::strerror(zone_file.err)});
    if (!zone) {
      r.problems.push_back("site_timezone: \"" + l.config.site_timezone +
                           "\" is not a time zone on this machine (" + zone.error().message +
                           "; is the tzdata package installed?)");
      return r;
    }
    l.config.site_zone = *zone;
    l.config.replenish.site_zone = *zone;
    for (auto& c : l.config.replenish.campaigns) replenish::localize(c, *zone);
  }
  r.loaded = std::move(l);
  return r;
}

std::string database_not_a_file(const LoadedConfig& l) {
  std::error_code ec;
  const auto st = std::filesystem::status(l.database_path, ec);
  // A symlink loop or a name too long: no file can be opened there (a missing file or folder
  // is created or reported by check_environment).
  if (ec == std::errc::too_many_symbolic_link_levels || ec == std::errc::filename_too_long)
    return "database: \"" + l.config.database + "\" cannot be opened: " + ec.message();
  if (ec || !std::filesystem::exists(st) || std::filesystem::is_regular_file(st)) return {};
  return "database: \"" + l.config.database + "\" is " +
         (std::filesystem::is_directory(st) ? "a folder" : "not a regular file (a device, pipe or socket)") +
         ": set it to the path of a file (created at the first start)";
}

std::vector<std::string> check_environment(const LoadedConfig& l) {
  std::vector<std::string> problems;
  auto dir = std::filesystem::path(l.database_path).parent_path();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    problems.push_back("database: \"" + l.config.database + "\" is in folder " + dir.string() +
                       ", which does not exist");
  } else if (::access(dir.c_str(), W_OK) != 0) {
    problems.push_back("database: \"" + l.config.database + "\" is in folder " + dir.string() +
                       ", which this user cannot write: " + std::strerror(errno));
  }
  return problems;
}

std::vector<std::string> check_credentials(const LoadedConfig& l,
                                           std::vector<std::string>* unseen) {
  std::vector<std::string> problems;
  const char* creds = std::getenv("CREDENTIALS_DIRECTORY");
  const bool by_hand = unseen && (creds == nullptr || *creds == '\0');
  // A credential of the unit (LoadCredential=) is not there when checked by hand: noted, and
  // not checked.
  auto unseen_credential = [&](const std::string& file, const std::string& key) {
    std::error_code ec;
    if (!by_hand || file.rfind("/run/credentials/", 0) != 0 || std::filesystem::exists(file, ec))
      return false;
    unseen->push_back(key + ": \"" + file +
                      "\" is a systemd credential, there only while the service runs: not "
                      "checked (its source is the unit's LoadCredential=, e.g. "
                      "/etc/depot-agent/credentials/)");
    return true;
  };
  // Opened and read, not access(2): root passes access() for any file, and a folder "opens".
  auto readable = [&](const std::string& file, const std::string& key) {
    if (file.empty() || unseen_credential(file, key)) return;
    const FileReadRules rules{0};  // its first byte at most: never blocking on a FIFO
    auto read = read_file_bounded(file, rules);
    if (read.outcome == FileRead::Outcome::kNotRegular)
      problems.push_back(key + ": \"" + file + "\" " + not_regular_text(rules));
    else if (read.outcome == FileRead::Outcome::kCannotRead)
      problems.push_back(key + ": \"" + file + "\" cannot be read: " + std::strerror(read.err));
  };
  // A secret is read as `run` reads it (base/secret_file): an empty or short one is refused here too.
  auto secret = [&](const std::string& file, const std::string& key, const SecretRule& rule) {
    if (file.empty() || unseen_credential(file, key)) return;
    if (auto s = read_secret_file(file, key, rule); !s) problems.push_back(s.error().message);
  };
  secret(l.config.audit_key_file, "audit_key_file", kAuditKeyRule);
  if (const auto& c = l.config.console) {
    readable(c->tls_cert, "console.tls_cert");
    readable(c->tls_key, "console.tls_key");
  }
  for (std::size_t i = 0; i < l.config.sensors.size(); ++i)
    if (const auto& sensor = l.config.sensors[i]; sensor.driver == coldchain::Driver::kMqtt)
      secret(sensor.mqtt.password_file, "sensors[" + std::to_string(i) + "].mqtt.password_file",
             kPasswordRule);
  const auto& m = l.config.mqtt;
  if (!m) return problems;
  secret(m->password_file, "mqtt.password_file", kPasswordRule);
  secret(m->hmac_secret_file, "mqtt.hmac_secret_file", kHmacSecretRule);
  if (m->tls) {
    readable(m->tls->ca, "mqtt.tls.ca");
    readable(m->tls->cert, "mqtt.tls.cert");
    readable(m->tls->key, "mqtt.tls.key");
  }
  return problems;
}

}  // namespace depot::app
