// Giving back the start-up code's pages. Loading the config and the catalog, migrating and
// checking the database run code the steady state never runs again, and the dynamic linker
// reads symbol tables of every library once; all of it stays in the process's resident set
// (RSS) until the kernel needs the memory. After READY the daemon unmaps the pages of its
// read-only file mappings (code, read-only data: the same bytes as the file), so its RSS is
// what it uses. The pages stay in the page cache; what runs again is mapped again on its
// next access (a minor fault while they are still cached; a read from flash once the kernel
// has dropped them). The cloud link does the same once connected, at most once in 10 minutes
// (a TLS handshake runs much of OpenSSL). Nothing else changes: writable mappings,
// mappings with a page copied on write (relocated data), resident or swapped, and anonymous
// memory are never touched.
// docs/performance.md, "Footprint".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace depot {

struct PageRange {
  std::uintptr_t begin = 0, end = 0;  // [begin, end), page-aligned as the kernel prints them
  std::uint64_t rss_kib = 0;          // resident now
};

// Pure: the mappings of an smaps text (/proc/PID/smaps) that can be given back: private,
// not writable, backed by a file (inode not 0, an absolute path, not /dev/), with pages
// resident and none copied on write ("Anonymous" and "Swap" both read, 0 kB).
// At most `max_ranges`; a malformed or truncated mapping is left out.
std::vector<PageRange> releasable_ranges(std::string_view smaps, std::size_t max_ranges = 4096);

struct Released {
  std::size_t mappings = 0;
  std::uint64_t kib = 0;  // resident before, in the mappings given back
};
// Reads /proc/self/smaps (at most 8 MiB, streamed through a 16 KiB buffer) and gives back
// the ranges above (madvise MADV_DONTNEED). Only the dynamic linker (and libc, for locale files
// at setlocale) makes and removes such mappings; the agent never unloads a library (dlclose)
// nor changes its locale after start, so none is unmapped and its range reused for other
// memory between the read and the madvise, whichever thread runs meanwhile.
Expected<Released> release_file_pages();

// release_file_pages, logged: what was given back (info) or why nothing was (warning).
// `after` names the work whose pages go ("start-up", "the cloud link's connect").
void give_back_file_pages(std::string_view after);

// The daemon's allocator settings, set at the start of `run_daemon` (the config is parsed
// before it) and by the benchmarks that run the agent's code in their own process. glibc's
// defaults trade memory for speed: a large block freed (the parsed config, a loading vector)
// raises the mmap threshold, so later large blocks land in the heap and keep it fragmented;
// every thread that allocates may get an arena of its own (64 MB of address space; 1 MB on
// 32-bit). A fixed mmap threshold gives large blocks back to the kernel when freed; two arenas
// serve the loop and the helper threads (Paho, blocking probe reads). A heap's free top is
// given back at free() once it exceeds 2 MiB, not 128 KiB: a drain holds 16 messages in
// flight twice over (the agent's envelope and Paho's copy, about 1.7 MB, both from the loop's
// main heap), and each PUBACK gave the top back and the next message faulted it in again, a
// page at a time (docs/performance.md, "The drain"). The 30 s malloc_trim gives the main
// heap's top back while idle; the second arena's top (Paho's threads) shrinks only at free(),
// so up to 2 MiB of it can stay resident (on 32-bit its heaps are 1 MiB: only a whole heap
// goes back).
void tune_allocator();

}  // namespace depot
