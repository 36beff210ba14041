#include "core/sha256.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <random>
#include <string>

namespace depot {
namespace {

// OpenSSL's answers, the independent oracle.
std::string openssl_sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  Sha256Digest d{};
  std::copy(md, md + len, d.begin());
  return to_hex(d);
}

std::string openssl_hmac(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  Sha256Digest d{};
  std::copy(md, md + len, d.begin());
  return to_hex(d);
}

TEST(Sha256, Fips180Examples) {
  EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(to_hex(sha256(std::string(1'000'000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, AgreesWithOpenSslAtEveryLengthAroundTheBlockEdges) {
  std::mt19937 rng(7);
  for (std::size_t n = 0; n <= 300; ++n) {
    std::string data(n, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    ASSERT_EQ(to_hex(sha256(data)), openssl_sha256(data)) << "length " << n;
  }
}

TEST(Sha256, PiecewiseUpdatesEqualOneShot) {
  const std::string text(1000, 'x');
  Sha256 s;
  for (std::size_t at = 0; at < text.size(); at += 37) s.update(std::string_view(text).substr(at, 37));
  EXPECT_EQ(to_hex(s.digest()), to_hex(sha256(text)));
}

TEST(HmacSha256, Rfc4231Cases) {
  EXPECT_EQ(to_hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256, AgreesWithOpenSslForShortAndLongKeys) {
  std::mt19937 rng(11);
  for (std::size_t k : {0u, 1u, 32u, 63u, 64u, 65u, 131u}) {
    std::string key(k, '\0'), data(k * 3 + 5, '\0');
    for (auto& c : key) c = static_cast<char>(rng());
    for (auto& c : data) c = static_cast<char>(rng());
    EXPECT_EQ(to_hex(hmac_sha256(key, data)), openssl_hmac(key, data)) << "key length " << k;
  }
}

TEST(ConstantTimeEqual, ComparesBytesAndLengths) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

}  // namespace
}  // namespace depot
