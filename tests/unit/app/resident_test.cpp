// depot::releasable_ranges (which mappings of an smaps text can be given back) and
// depot::release_file_pages on this test process itself (a real kernel's smaps and madvise).
#include "base/resident.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace depot {
namespace {

// Addresses below 4 GiB, so the same text parses on 32-bit ARM (armhf).
// One mapping as the kernel prints it in /proc/PID/smaps (the fields read, plus some not).
std::string mapping(std::string_view header, int rss_kib, int anon_kib, int swap_kib = 0,
                    int dirty_kib = -1) {
  std::ostringstream s;
  s << header << "\nSize:                 64 kB\nKernelPageSize:        4 kB\n"
    << "Rss:                 " << rss_kib << " kB\nPss:                  8 kB\n"
    << "Private_Dirty:       " << (dirty_kib < 0 ? anon_kib : dirty_kib) << " kB\n"
    << "Anonymous:           " << anon_kib << " kB\nSwap:                " << swap_kib
    << " kB\nVmFlags: rd ex mr mw me \n";
  return s.str();
}

TEST(ReleasableRanges, KeepsOnlyResidentReadOnlyPrivateFileMappingsWithNoCopiedPages) {
  const std::string smaps =
      mapping("97600000-97610000 r-xp 00001000 fe:00 101  /usr/bin/depot-agent", 64, 0) +
      mapping("97610000-97614000 r--p 00011000 fe:00 101  /usr/bin/depot-agent", 16, 0) +
      // relocated read-only data (RELRO): pages copied on write; giving them back would
      // bring back the file's unrelocated bytes
      mapping("97614000-97616000 r--p 00015000 fe:00 101  /usr/bin/depot-agent", 8, 8) +
      mapping("97616000-97617000 rw-p 00017000 fe:00 101  /usr/bin/depot-agent", 4, 4) +
      mapping("50000000-5008c000 rw-p 00000000 00:00 0 ", 560, 560) +
      mapping("57441000-57442000 r--p 00000000 00:00 0 ", 4, 4) +  // anonymous
      mapping("57500000-57508000 r-xp 00000000 fe:00 7  /lib/libz.so.1", 0,
              0) +  // nothing resident
      mapping("58000000-58008000 rw-s 00000000 fe:00 9  /var/lib/depot/a.db-shm", 32, 0) +
      mapping("58100000-58101000 r--s 00000000 fe:00 9  /var/lib/depot/b", 4, 0) +  // shared
      mapping("1e5f0000-1e5f2000 r-xp 00000000 00:00 0  [vdso]", 8, 0) +
      mapping("59000000-59010000 r-xp 00000000 fe:00 12 /opt/old lib.so (deleted)", 40, 0) +
      // relocated pages swapped out (zram): not resident, so not Anonymous, but not the file's
      mapping("5a000000-5a004000 r--p 00015000 fe:00 13  /usr/lib/libssl.so.3", 8, 0, 8) +
      mapping("5c000000-5c001000 r--p 00000000 00:00 0    /not/a/file", 4, 0) +  // inode 0
      mapping("5d000000-5d001000 r--p 00000000 00:00 0    [anon: /x]", 4, 0) +   // named anon
      mapping("5e000000-5e001000 r--p 00000000 00:05 77   /dev/mem", 4, 0);
  const auto got = releasable_ranges(smaps);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].begin, 0x97600000u);
  EXPECT_EQ(got[0].end, 0x97610000u);
  EXPECT_EQ(got[0].rss_kib, 64u);
  EXPECT_EQ(got[1].begin, 0x97610000u);
  EXPECT_EQ(got[1].rss_kib, 16u);
  EXPECT_EQ(got[2].begin, 0x59000000u);  // a path with a space, its file replaced since
  EXPECT_EQ(got[2].rss_kib, 40u);
}

TEST(ReleasableRanges, LeavesOutWhatItCannotReadWhole) {
  // A field missing (a truncated read): not known to be unmodified, so left out.
  const std::string header = "97600000-97610000 r-xp 00001000 fe:00 101  /usr/bin/depot-agent\n";
  EXPECT_TRUE(releasable_ranges(header + "Rss: 64 kB\n").empty());
  EXPECT_TRUE(releasable_ranges(header + "Rss: 64 kB\nAnonymous: 0 kB\n").empty());  // no Swap
  // A dirty file page (not yet written back) is still the file's.
  EXPECT_EQ(releasable_ranges(header + "Rss: 64 kB\nAnonymous: 0 kB\nPrivate_Dirty: 64 kB\n"
                                       "Swap: 0 kB\n")
                .size(),
            1u);
  // A range that is not hex, or ends before it begins, or an Rss that is not a number.
  EXPECT_TRUE(releasable_ranges(mapping("55bb9760000g-97610000 r-xp 0 fe:00 1 /a", 64, 0)).empty());
  EXPECT_TRUE(releasable_ranges(mapping("97610000-97600000 r-xp 0 fe:00 1 /a", 64, 0)).empty());
  EXPECT_TRUE(releasable_ranges("97600000-97610000 r-xp 0 fe:00 1 /a\nRss: many kB\n"
                                "Anonymous: 0 kB\n")
                  .empty());
  EXPECT_TRUE(releasable_ranges("").empty());
  EXPECT_TRUE(releasable_ranges("\n\n:::\n-\n").empty());
  // At most max_ranges.
  std::string many;
  for (int i = 0; i < 10; ++i)
    many += mapping("b6" + std::to_string(10 + i) + "0000-b6" + std::to_string(10 + i) +
                        "8000 r-xp 0 fe:00 1 /lib/x.so",
                    32, 0);
  EXPECT_EQ(releasable_ranges(many).size(), 10u);
  EXPECT_EQ(releasable_ranges(many, 4).size(), 4u);
}

// The Rss of the mapping of this process that holds `address`, from the kernel's smaps.
std::uint64_t rss_kib_at(const void* address) {
  std::ifstream in("/proc/self/smaps");
  std::stringstream all;
  all << in.rdbuf();
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  std::string line;
  bool inside = false;
  while (std::getline(all, line)) {
    unsigned long long b = 0, e = 0;
    char dash = 0;
    std::istringstream h(line);
    if (line.find(':') > line.find(' ') && (h >> std::hex >> b >> dash >> e) && dash == '-')
      inside = a >= b && a < e;
    else if (inside && line.rfind("Rss:", 0) == 0)
      return std::stoull(line.substr(4));
  }
  return 0;
}

const char kTable[] = "read-only data the test reads back after its pages were given back";

// Reads `text` through a volatile pointer: the compiler cannot fold it, the page is read.
std::string read_back(const char* text, std::size_t n) {
  const volatile char* p = text;
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(p[i]);
  return out;
}

TEST(ReleaseFilePages, GivesBackThisProcesssCodePagesAndTheyMapBackOnUse) {
  const void* code = reinterpret_cast<const void*>(&rss_kib_at);
  const auto before = rss_kib_at(code);
  const auto released = release_file_pages();
  ASSERT_TRUE(released) << released.error().message;
  // Code and read-only data still there, the same bytes: this runs, and the table reads back.
  EXPECT_EQ(read_back(kTable, 9), "read-only");
  EXPECT_EQ(releasable_ranges("").size(), 0u);
  if (std::getenv("DEPOT_AGENT_EMULATOR"))  // qemu-user: smaps is qemu's (no real Rss)
    GTEST_SKIP() << "under qemu-user: released " << released->kib << " KiB as qemu reports it";
  EXPECT_GT(before, 0u);
  EXPECT_GT(released->mappings, 0u);
  EXPECT_GE(released->kib, before);  // the test binary's code mapping is one of them
  // Only what ran since is back (this function and what it calls), not the whole mapping.
  EXPECT_LT(rss_kib_at(code), before);
}

// A page written in a private file mapping and then made read-only (what the dynamic linker
// does to relocated data) is not the file's: it must survive the give-back.
TEST(ReleaseFilePages, APageCopiedOnWriteInAReadOnlyFileMappingKeepsItsBytes) {
  char path[] = "/tmp/depot-resident-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string page(4096, 'f');
  ASSERT_EQ(::write(fd, page.data(), page.size()), static_cast<ssize_t>(page.size()));
  ASSERT_EQ(::write(fd, page.data(), page.size()), static_cast<ssize_t>(page.size()));
  void* m = ::mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  ::close(fd);
  ::unlink(path);
  ASSERT_NE(m, MAP_FAILED);
  auto* bytes = static_cast<char*>(m);
  bytes[10] = 'w';                               // page 0: copied on write
  EXPECT_EQ(read_back(bytes + 4096, 1), "f");    // page 1: the file's, resident
  ASSERT_EQ(::mprotect(m, 8192, PROT_READ), 0);  // like RELRO: read-only now
  const auto released = release_file_pages();
  ASSERT_TRUE(released) << released.error().message;
  EXPECT_EQ(read_back(bytes + 10, 1), "w");
  EXPECT_EQ(read_back(bytes + 4096, 1), "f");
  ::munmap(m, 8192);
}

}  // namespace
}  // namespace depot
