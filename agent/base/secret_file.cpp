#include "base/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace depot {

namespace {
// A secret is a line or a key: more than this is not a secret file (e.g. /dev/zero).
constexpr std::size_t kMaxSecretBytes = 64 * 1024;
}  // namespace

Expected<std::string> read_secret_file(const std::string& path, std::string_view key,
                                       const SecretRule& rule) {
  const std::string k(key);
  auto failed = [&](const char* doing) {
    return Error{k + ": " + doing + " " + path + ": " + std::strerror(errno), ErrorKind::kBadInput};
  };
  // O_NONBLOCK: opening a FIFO without a writer would wait for one (check and run hung).
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return failed("cannot read");
  struct stat st {};
  // A folder is left to read(2): "Is a directory".
  if (::fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Error{k + ": " + path + " is not a regular file (a pipe, device or socket): not a "
                     "secret file",
                 ErrorKind::kBadInput};
  }
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto e = failed("cannot read");
      ::close(fd);
      return e;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxSecretBytes) {
      ::close(fd);
      return Error{k + ": " + path + " holds more than " + std::to_string(kMaxSecretBytes) +
                       " bytes: not a secret file",
                   ErrorKind::kBadInput};
    }
  }
  ::close(fd);
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
