#include "base/file_read.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace depot {

namespace {
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

FileRead read_file_bounded(const std::string& path, const FileReadRules& rules) {
  FileRead r;
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
  if (f.fd < 0) {
    r.outcome = FileRead::Outcome::kCannotRead;
    r.err = errno;
    return r;
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) {
    r.outcome = FileRead::Outcome::kCannotRead;
    r.err = errno;
    return r;
  }
  const bool pipe = S_ISFIFO(st.st_mode);
  // A folder is left to read(2): "Is a directory".
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !(pipe && rules.pipes)) {
    r.outcome = FileRead::Outcome::kNotRegular;
    return r;
  }
  if (S_ISREG(st.st_mode)) {
    r.size = static_cast<std::uint64_t>(st.st_size);
    if (r.size > rules.max_bytes) {  // its size says so; its first byte says it can be read
      char byte;
      const bool readable = ::read(f.fd, &byte, 1) >= 0;
      r.outcome = readable ? FileRead::Outcome::kTooLarge : FileRead::Outcome::kCannotRead;
      r.err = readable ? 0 : errno;
      return r;
    }
    r.text.reserve(static_cast<std::size_t>(r.size));
  }
  // A pipe has `pipe_wait` in all to be read to its end (not per wait: a writer dripping a
  // byte now and then must not hold the caller for ever).
  const auto pipe_end = std::chrono::steady_clock::now() + rules.pipe_wait;
  char buf[1 << 16];
  while (r.text.size() <= rules.max_bytes) {
    const auto want = std::min<std::size_t>(sizeof buf, rules.max_bytes + 1 - r.text.size());
    const ssize_t n = ::read(f.fd, buf, want);
    if (n > 0) {
      r.text.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) break;  // the end (a pipe: its writers are gone, or there never was one)
    if (errno == EINTR) continue;
    if (errno == EAGAIN && pipe) {  // a writer that has not written yet
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          pipe_end - std::chrono::steady_clock::now());
      pollfd p{f.fd, POLLIN, 0};
      const int ready = left.count() <= 0 ? 0 : ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready == 0) {
        r.outcome = FileRead::Outcome::kPipeSilent;
        return r;
      }
      if (ready < 0 && errno != EINTR) {
        r.outcome = FileRead::Outcome::kCannotRead;
        r.err = errno;
        return r;
      }
      continue;
    }
    r.outcome = FileRead::Outcome::kCannotRead;
    r.err = errno;
    return r;
  }
  if (r.text.size() > rules.max_bytes) r.outcome = FileRead::Outcome::kTooLarge;
  return r;
}

const char* not_regular_text(const FileReadRules& rules) {
  return rules.pipes ? "is not a regular file or a pipe (a device or socket)"
                     : "is not a regular file (a pipe, device or socket)";
}

}  // namespace depot
