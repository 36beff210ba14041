#include "base/resident.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>

#include "base/log.hpp"

namespace depot {
namespace {

// "55bb97695000-55bb9769b000" -> [begin, end); false unless both are hex and begin < end.
bool parse_range(std::string_view text, std::uintptr_t& begin, std::uintptr_t& end) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return false;
  const auto a = text.substr(0, dash), b = text.substr(dash + 1);
  auto ra = std::from_chars(a.data(), a.data() + a.size(), begin, 16);
  auto rb = std::from_chars(b.data(), b.data() + b.size(), end, 16);
  return ra.ec == std::errc() && ra.ptr == a.data() + a.size() && rb.ec == std::errc() &&
         rb.ptr == b.data() + b.size() && begin < end;
}

// "Rss:     560 kB" -> 560; nullopt-like false when the value is not a number.
bool parse_kib(std::string_view rest, std::uint64_t& kib) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  auto r = std::from_chars(rest.data(), rest.data() + rest.size(), kib);
  return r.ec == std::errc();
}

struct Candidate {
  PageRange range;
  bool eligible = false;  // private, not writable, a file
  bool have_rss = false, have_anon = false;
  std::uint64_t anon_kib = 0;
};

bool keep(const Candidate& c) {
  return c.eligible && c.have_rss && c.have_anon && c.anon_kib == 0 && c.range.rss_kib > 0;
}

}  // namespace

std::vector<PageRange> releasable_ranges(std::string_view smaps, std::size_t max_ranges) {
  std::vector<PageRange> out;
  Candidate cur;
  bool open = false;
  auto close = [&] {
    if (open && keep(cur) && out.size() < max_ranges) out.push_back(cur.range);
    open = false;
  };
  while (!smaps.empty()) {
    const auto nl = smaps.find('\n');
    const auto line = smaps.substr(0, nl);
    smaps.remove_prefix(nl == std::string_view::npos ? smaps.size() : nl + 1);
    const auto sp = line.find(' ');
    const auto first = line.substr(0, sp);
    std::uintptr_t begin = 0, end = 0;
    if (first.find(':') == std::string_view::npos && parse_range(first, begin, end)) {
      close();  // a new mapping: "begin-end perms offset dev inode [path]"
      open = true;
      cur = Candidate{};
      cur.range.begin = begin;
      cur.range.end = end;
      std::string_view rest = sp == std::string_view::npos ? "" : line.substr(sp + 1);
      const auto perms = rest.substr(0, rest.find(' '));
      // The path is the first field that starts with '/' (after offset, device, inode).
      const auto slash = rest.find(" /");
      cur.eligible = perms.size() == 4 && perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p' &&
                     slash != std::string_view::npos;
      continue;
    }
    if (!open) continue;
    if (first == "Rss:")
      cur.have_rss = parse_kib(line.substr(4), cur.range.rss_kib);
    else if (first == "Anonymous:")
      cur.have_anon = parse_kib(line.substr(10), cur.anon_kib);
  }
  close();
  return out;
}

Expected<Released> release_file_pages() {
  constexpr std::size_t kMax = 8u << 20;
  const int fd = ::open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Error{std::string("/proc/self/smaps: ") + std::strerror(errno), ErrorKind::kIo};
  std::string text;
  char buf[16384];
  for (;;) {
    const auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return Error{std::string("/proc/self/smaps: ") + std::strerror(e), ErrorKind::kIo};
    }
    if (n == 0) break;
    if (text.size() + static_cast<std::size_t>(n) > kMax) {
      ::close(fd);
      return Error{"/proc/self/smaps: larger than 8 MiB, nothing given back", ErrorKind::kIo};
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  Released done;
  for (const auto& r : releasable_ranges(text)) {
    if (::madvise(reinterpret_cast<void*>(r.begin), r.end - r.begin, MADV_DONTNEED) != 0) continue;
    ++done.mappings;
    done.kib += r.rss_kib;
  }
  return done;
}

void give_back_file_pages(std::string_view after) {
  if (auto r = release_file_pages(); !r)
    log::warning("memory: pages not given back after " + std::string(after) + ": " +
                 r.error().message);
  else
    log::info("memory: " + std::to_string(r->kib) +
              " KiB of code and read-only data given back "
              "after " +
              std::string(after) + " (" + std::to_string(r->mappings) + " file mappings)");
}

}  // namespace depot
