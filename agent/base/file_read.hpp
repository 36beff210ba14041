// Reading a file named by the operator (the config, the secret and TLS files it names) without
// letting it hang or flood the agent: opened without blocking (a FIFO without a writer would
// wait for one: `check` and `run` hung), a device or socket refused, and at most `max_bytes`
// (+1, to tell that there is more) read. One reader for the config file (app/config_file) and
// the secret files (base/secret_file); callers phrase the messages (they name their config key).
// Thread-safety: none needed (no state).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace depot {

struct FileReadRules {
  std::size_t max_bytes = 0;
  // A pipe (a FIFO, `-c <(...)`, /dev/stdin from a pipe) is read until its writer closes it;
  // while it has no writer it reads as empty, and a writer that has not closed it within
  // `pipe_wait` (in all) stops it. Without this, a pipe is refused like a device.
  bool pipes = false;
  std::chrono::milliseconds pipe_wait{10'000};
};

struct FileRead {
  enum class Outcome {
    kRead,        // `text` holds the whole file
    kCannotRead,  // open(2) or read(2) failed: `err` (a folder: EISDIR)
    kNotRegular,  // a device or socket (or a pipe without `pipes`): not opened further
    kTooLarge,    // more than max_bytes: a file by its `size` (nothing read into `text`), a
                  // pipe by reading: `text` holds its first max_bytes + 1 bytes
    kPipeSilent,  // a pipe's writer did not close it within `pipe_wait`
  };
  Outcome outcome = Outcome::kRead;
  std::string text;
  int err = 0;
  std::uint64_t size = 0;  // a regular file's size (0 for a pipe)
};

FileRead read_file_bounded(const std::string& path, const FileReadRules& rules);

// "is not a regular file (a pipe, device or socket)", or "(a device or socket)" when pipes are
// accepted: the words every caller uses for kNotRegular.
const char* not_regular_text(const FileReadRules& rules);

}  // namespace depot
