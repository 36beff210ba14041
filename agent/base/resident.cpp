#include "base/resident.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>
#include <utility>

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

// "Rss:     560 kB" -> 560; false when the value is not a number.
bool parse_kib(std::string_view rest, std::uint64_t& kib) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  auto r = std::from_chars(rest.data(), rest.data() + rest.size(), kib);
  return r.ec == std::errc();
}

struct Candidate {
  PageRange range;
  bool eligible = false;  // private, not writable, a file (inode, absolute path, not /dev)
  // Both must be read, and 0: a page copied on write (relocated data, a debugger's breakpoint)
  // is Anonymous while resident and Swap once swapped out (zram); giving the range back would
  // bring back the file's bytes in its place. (Private_Dirty is no sign of it: a file page
  // not yet written back, say of a binary just built, is dirty and still the file's.)
  bool have_rss = false, have_anon = false, have_swap = false;
  std::uint64_t anon_kib = 0, swap_kib = 0;
};

bool keep(const Candidate& c) {
  return c.eligible && c.have_rss && c.have_anon && c.have_swap && c.anon_kib == 0 &&
         c.swap_kib == 0 && c.range.rss_kib > 0;
}

// "r-xp 00001000 fe:00 101   /usr/bin/depot-agent": private, not writable, backed by a file
// (inode not 0, the path field starts with '/', not a device).
bool eligible_header(std::string_view rest) {
  std::string_view field[4];
  for (auto& f : field) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto sp = rest.find(' ');
    if (sp == std::string_view::npos) return false;
    f = rest.substr(0, sp);
    rest.remove_prefix(sp);
  }
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  const auto perms = field[0], inode = field[3];
  return perms.size() == 4 && perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p' &&
         !inode.empty() && inode != "0" && !rest.empty() && rest.front() == '/' &&
         rest.substr(0, 5) != "/dev/";
}

// Reads smaps one line at a time (the daemon streams the file through a fixed buffer: at the
// moment it runs, just after READY, the process is at its largest).
class SmapsReader {
 public:
  explicit SmapsReader(std::size_t max_ranges) : max_(max_ranges) {}

  void line(std::string_view line) {
    const auto sp = line.find(' ');
    const auto first = line.substr(0, sp);
    std::uintptr_t begin = 0, end = 0;
    if (first.find(':') == std::string_view::npos && parse_range(first, begin, end)) {
      close();  // a new mapping: "begin-end perms offset dev inode [path]"
      open_ = true;
      cur_ = Candidate{};
      cur_.range.begin = begin;
      cur_.range.end = end;
      cur_.eligible = sp != std::string_view::npos && eligible_header(line.substr(sp + 1));
      return;
    }
    if (!open_) return;
    if (first == "Rss:")
      cur_.have_rss = parse_kib(line.substr(4), cur_.range.rss_kib);
    else if (first == "Anonymous:")
      cur_.have_anon = parse_kib(line.substr(10), cur_.anon_kib);
    else if (first == "Swap:")
      cur_.have_swap = parse_kib(line.substr(5), cur_.swap_kib);
  }

  std::vector<PageRange> finish() && {
    close();
    return std::move(out_);
  }

 private:
  void close() {
    if (open_ && keep(cur_) && out_.size() < max_) out_.push_back(cur_.range);
    open_ = false;
  }

  std::size_t max_;
  std::vector<PageRange> out_;
  Candidate cur_;
  bool open_ = false;
};

}  // namespace

std::vector<PageRange> releasable_ranges(std::string_view smaps, std::size_t max_ranges) {
  SmapsReader reader(max_ranges);
  while (!smaps.empty()) {
    const auto nl = smaps.find('\n');
    reader.line(smaps.substr(0, nl));
    smaps.remove_prefix(nl == std::string_view::npos ? smaps.size() : nl + 1);
  }
  return std::move(reader).finish();
}

namespace {
struct FdGuard {  // closes the file on every way out
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};
Error smaps_error(std::string_view why) {
  return Error{"/proc/self/smaps: " + std::string(why), ErrorKind::kIo};
}
}  // namespace

Expected<Released> release_file_pages() {
  constexpr std::size_t kMaxBytes = 8u << 20, kMaxLine = 8192;
  const FdGuard file{::open("/proc/self/smaps", O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) return smaps_error(std::strerror(errno));
  SmapsReader reader(4096);
  char buf[16384];
  std::size_t kept = 0, total = 0;  // buf[0, kept): the start of a line not ended yet
  for (;;) {
    const auto n = ::read(file.fd, buf + kept, sizeof buf - kept);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return smaps_error(std::strerror(errno));
    total += static_cast<std::size_t>(n);
    if (total > kMaxBytes) return smaps_error("larger than 8 MiB, nothing given back");
    std::string_view text(buf, kept + static_cast<std::size_t>(n));
    if (n == 0) {  // the end: a last line without a newline is a line too
      if (!text.empty()) reader.line(text);
      break;
    }
    for (auto nl = text.find('\n'); nl != std::string_view::npos; nl = text.find('\n')) {
      reader.line(text.substr(0, nl));
      text.remove_prefix(nl + 1);
    }
    if (text.size() > kMaxLine) return smaps_error("a line longer than 8 KiB, nothing given back");
    std::memmove(buf, text.data(), text.size());
    kept = text.size();
  }
  Released done;
  for (const auto& r : std::move(reader).finish()) {
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
              " KiB of code and read-only data unmapped after " + std::string(after) + " (" +
              std::to_string(r->mappings) + " file mappings; the pages stay in the page cache)");
}

void tune_allocator() {
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  mallopt(M_TRIM_THRESHOLD, 2 * 1024 * 1024);
  mallopt(M_ARENA_MAX, 2);
}

}  // namespace depot
