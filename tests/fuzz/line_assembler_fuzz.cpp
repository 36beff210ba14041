// libFuzzer target for scanner line assembly (serial, TCP, stdin drivers): bytes arrive in
// arbitrary chunks. The first input byte picks the terminator and the chunk size. Properties:
// a line never holds a terminator and is never longer than max_line; the bytes held for an
// unterminated line stay within max_line; the same bytes fed in one piece give the same lines.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_support.hpp"
#include "scanner/line_assembler.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace depot;
  if (size < 1) return 0;
  const auto term = static_cast<Terminator>(data[0] % 3);
  const std::size_t chunk = 1 + (data[0] >> 2) % 17;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  constexpr std::size_t kMax = 64;
  auto run = [&](std::size_t step) {
    std::vector<std::string> lines;
    drivers::LineAssembler a(
        term, kMax, [&](std::string l) { lines.push_back(std::move(l)); },
        [&](std::string head, std::string) { lines.push_back("!overflow:" + head); });
    for (std::size_t i = 0; i < bytes.size(); i += step) {
      a.feed(bytes.substr(i, step));
      fuzz::require(a.pending() <= kMax, "held bytes past max_line", bytes);
    }
    return lines;
  };
  auto lines = run(chunk);
  for (const auto& l : lines) {
    if (l.rfind("!overflow:", 0) == 0) continue;
    fuzz::require(l.size() <= kMax, "line longer than max_line", bytes);
    const char split = term == Terminator::kCr ? '\r' : '\n';
    fuzz::require(l.find(split) == std::string::npos, "line holds its terminator", bytes);
  }
  fuzz::require(lines == run(bytes.size() + 1), "chunking changed the lines", bytes);
  return 0;
}
