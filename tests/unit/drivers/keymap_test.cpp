#include "scanner/evdev/keymap.hpp"

#include <gtest/gtest.h>
#include <linux/input-event-codes.h>

#include <vector>

namespace depot::drivers {
namespace {

struct Keys {
  std::vector<std::string> scans, rejects;
  KeyDecoder d;
  explicit Keys(const char* layout, std::size_t max = 64)
      : d(layout, max, [this](std::string s) { scans.push_back(s); },
          [this](std::string, std::string r) { rejects.push_back(r); }) {}
  void tap(std::uint16_t code) {
    d.feed(EV_KEY, code, 1);
    d.feed(EV_KEY, code, 0);
  }
  void shifted(std::uint16_t code) {
    d.feed(EV_KEY, KEY_LEFTSHIFT, 1);
    tap(code);
    d.feed(EV_KEY, KEY_LEFTSHIFT, 0);
  }
};

TEST(KeyDecoder, DigitsLettersAndShiftOnUsLayout) {
  Keys k("us");
  for (auto code : {KEY_4, KEY_0, KEY_0, KEY_6}) k.tap(static_cast<std::uint16_t>(code));
  k.shifted(KEY_I);
  k.shifted(KEY_N);
  k.shifted(KEY_T);
  k.shifted(KEY_MINUS);  // '_'
  k.tap(KEY_MINUS);      // '-'
  k.tap(KEY_A);
  k.tap(KEY_ENTER);
  ASSERT_EQ(k.scans.size(), 1u);
  EXPECT_EQ(k.scans[0], "4006INT_-a");
}

TEST(KeyDecoder, AutorepeatAndNonKeyEventsAreIgnored) {
  Keys k("us");
  k.d.feed(EV_MSC, MSC_SCAN, 458782);  // scanners send MSC_SCAN beside each key
  k.d.feed(EV_KEY, KEY_1, 1);
  k.d.feed(EV_KEY, KEY_1, 2);  // autorepeat of a stuck key
  k.d.feed(EV_KEY, KEY_1, 2);
  k.d.feed(EV_KEY, KEY_1, 0);
  k.d.feed(EV_SYN, SYN_REPORT, 0);
  k.tap(KEY_KPENTER);
  EXPECT_EQ(k.scans, (std::vector<std::string>{"1"}));
}

TEST(KeyDecoder, CtrlRightBraceAndAltKeypadGiveTheGroupSeparator) {
  Keys k("us");
  k.tap(KEY_1);
  k.d.feed(EV_KEY, KEY_LEFTCTRL, 1);
  k.tap(KEY_RIGHTBRACE);
  k.d.feed(EV_KEY, KEY_LEFTCTRL, 0);
  k.tap(KEY_2);
  k.d.feed(EV_KEY, KEY_LEFTALT, 1);
  k.tap(KEY_KP0);
  k.tap(KEY_KP2);
  k.tap(KEY_KP9);
  k.d.feed(EV_KEY, KEY_LEFTALT, 0);
  k.tap(KEY_3);
  k.tap(KEY_ENTER);
  ASSERT_EQ(k.scans.size(), 1u);
  EXPECT_EQ(k.scans[0], "1\x1d" "2\x1d" "3");
}

TEST(KeyDecoder, GermanLayoutSwapsYAndZ) {
  Keys k("de");
  k.tap(KEY_Y);
  k.tap(KEY_Z);
  k.tap(KEY_SLASH);  // '-' on a German keyboard
  k.tap(KEY_ENTER);
  EXPECT_EQ(k.scans, (std::vector<std::string>{"zy-"}));
}

TEST(KeyDecoder, AnOverlongScanIsRejected) {
  Keys k("us", 4);
  for (int i = 0; i < 6; ++i) k.tap(KEY_7);
  k.tap(KEY_ENTER);
  k.tap(KEY_8);
  k.tap(KEY_ENTER);
  EXPECT_EQ(k.scans, (std::vector<std::string>{"8"}));
  EXPECT_EQ(k.rejects.size(), 1u);
}

// Found by the system suite (a uinput keyboard typing into a busy agent under TCG): when the
// reader falls behind, the kernel drops the queued events and says so with SYN_DROPPED. The
// scan being typed has lost characters: it must become a reject naming the loss, never a scan
// with a silently shortened lot or GTIN.
TEST(KeyDecoder, EventsDroppedByTheKernelRejectTheScanInProgress) {
  Keys k("us");
  k.tap(KEY_1);
  k.tap(KEY_0);
  k.d.feed(EV_KEY, KEY_LEFTSHIFT, 1);
  k.d.feed(EV_SYN, SYN_DROPPED, 0);  // ... the Shift release and some keys were lost
  k.d.feed(EV_KEY, KEY_A, 1);        // the rest of a packet after the drop: not trusted
  k.d.feed(EV_SYN, SYN_REPORT, 0);
  k.tap(KEY_7);
  k.tap(KEY_ENTER);
  EXPECT_TRUE(k.scans.empty());
  ASSERT_EQ(k.rejects.size(), 1u);
  EXPECT_NE(k.rejects[0].find("SYN_DROPPED"), std::string::npos) << k.rejects[0];
  // The next scan is whole again, and the lost Shift release does not capitalise it.
  k.tap(KEY_4);
  k.tap(KEY_B);
  k.tap(KEY_ENTER);
  EXPECT_EQ(k.scans, (std::vector<std::string>{"4b"}));
}

TEST(KeyDecoder, EventsDroppedBetweenScansRejectNothingTyped) {
  Keys k("us");
  k.tap(KEY_1);
  k.tap(KEY_ENTER);
  k.d.feed(EV_SYN, SYN_DROPPED, 0);  // nothing was being typed: an empty reject says so
  k.d.feed(EV_SYN, SYN_REPORT, 0);
  k.tap(KEY_ENTER);
  k.tap(KEY_2);
  k.tap(KEY_ENTER);
  EXPECT_EQ(k.scans, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(k.rejects.size(), 1u);
}

}  // namespace
}  // namespace depot::drivers
