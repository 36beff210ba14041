// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for the audit trail's hash chain, the
// config fingerprint and signed cloud commands. The agent's own, rather than OpenSSL's EVP
// API: the first EVP call initialises OpenSSL's providers and error tables, which kept some
// 3 MB of libcrypto resident for the life of a gateway that only ever hashes a few records
// (docs/performance.md, "Footprint"). Checked against OpenSSL in tests/unit/core/sha256_test.
// Pure; safe on any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace depot {

using Sha256Digest = std::array<std::uint8_t, 32>;

// Incremental hashing: update() any number of times, then digest() once.
class Sha256 {
 public:
  Sha256();
  void update(std::string_view data);
  Sha256Digest digest();  // REQUIRES: called once; the object is spent afterwards

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t used_ = 0;       // bytes in buf_
  std::uint64_t total_ = 0;    // bytes hashed so far
};

Sha256Digest sha256(std::string_view data);
Sha256Digest hmac_sha256(std::string_view key, std::string_view data);
// Lower-case hex of a digest.
std::string to_hex(const Sha256Digest& d);
// Compares two strings in time that depends only on their lengths (for MACs).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace depot
