#include "scanner/line_assembler.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace depot::drivers {
namespace {

struct Capture {
  std::vector<std::string> lines, rejects;
  LineAssembler make(Terminator t, std::size_t max) {
    return LineAssembler(t, max, [this](std::string l) { lines.push_back(l); },
                         [this](std::string h, std::string r) { rejects.push_back(h + "|" + r); });
  }
};

TEST(LineAssembler, SplitsAtTheConfiguredTerminatorAcrossReads) {
  Capture c;
  auto a = c.make(Terminator::kCr, 64);
  a.feed("4006381");
  a.feed("333931\r50123");
  a.feed("45678900\r\r");
  EXPECT_EQ(c.lines, (std::vector<std::string>{"4006381333931", "5012345678900"}));
  EXPECT_EQ(a.pending(), 0u);
}

TEST(LineAssembler, CrLfAndLfTerminators) {
  Capture c;
  auto a = c.make(Terminator::kCrLf, 64);
  a.feed("A1\r\nB2\r\n");
  auto b = c.make(Terminator::kLf, 64);
  b.feed("C3\nD4\r\n");
  // A CR-terminated scanner that sends CRLF anyway: the LF is not data.
  auto d = c.make(Terminator::kCr, 64);
  d.feed("E5\r\nF6\r\n");
  EXPECT_EQ(c.lines, (std::vector<std::string>{"A1", "B2", "C3", "D4", "E5", "F6"}));
}

TEST(LineAssembler, AnOverlongLineIsRejectedOnceAndSkipped) {
  Capture c;
  auto a = c.make(Terminator::kLf, 8);
  a.feed("123456789012\nOK\n");
  EXPECT_EQ(c.lines, (std::vector<std::string>{"OK"}));
  ASSERT_EQ(c.rejects.size(), 1u);
  EXPECT_EQ(c.rejects[0], "12345678|line longer than 8 bytes without a terminator");
}

TEST(LineAssembler, KeepsGroupSeparators) {
  Capture c;
  auto a = c.make(Terminator::kCr, 64);
  a.feed("0104006381333931\x1d" "10LOT\r");
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0], "0104006381333931\x1d" "10LOT");
}

}  // namespace
}  // namespace depot::drivers
