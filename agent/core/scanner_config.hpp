// Configuration of barcode scanners: one entry per physical scanner, with its id, its role
// (which gives the default movement kind), the double-read window, and the settings of its
// driver (evdev, serial, tcp or stdin). Each driver's README documents its table.
// Pure: validation only; drivers/ opens the devices.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "core/json_fields.hpp"
#include "core/movement.hpp"

namespace depot {

struct EvdevSettings {
  std::string path;            // /dev/input/by-id/...-event-kbd (preferred) or /dev/input/eventN
  bool grab = true;            // EVIOCGRAB: keep the scans from also typing into a console
  std::string layout = "us";   // key map: "us" or "de" (see drivers/scanner/evdev/README.md)
  std::int64_t reopen_max_s = 30;
  bool operator==(const EvdevSettings&) const = default;
};

enum class Parity { kNone, kEven, kOdd };
enum class Terminator { kCr, kLf, kCrLf };

struct SerialSettings {
  std::string path;  // /dev/ttyACM0, /dev/ttyUSB0, /dev/serial/by-id/...
  std::int64_t baud = 9600;
  Parity parity = Parity::kNone;
  std::int64_t data_bits = 8;
  std::int64_t stop_bits = 1;
  Terminator terminator = Terminator::kCr;
  std::int64_t max_line = 256;
  std::int64_t reopen_max_s = 30;
  bool operator==(const SerialSettings&) const = default;
};

struct TcpSettings {
  std::string listen = "127.0.0.1";  // loopback by default: exposing it is a deliberate choice
  std::int64_t port = 0;             // required
  std::int64_t max_clients = 8;
  std::int64_t max_line = 256;
  std::int64_t idle_timeout_s = 300;  // a silent client is disconnected (0 = never)
  // A connection that completes no line for this long is disconnected, however many bytes
  // it trickles (slow-loris); 0 = never.
  std::int64_t line_timeout_s = 10;
  // Each connection is its own scan station (mode, QTY, UNDO, double reads) unless false.
  bool station_per_client = true;
  bool operator==(const TcpSettings&) const = default;
};

struct StdinSettings {
  std::string path;  // "" = the agent's standard input; otherwise a named pipe (FIFO)
  std::int64_t max_line = 256;
  // A line unfinished this long after its first byte is rejected and dropped (a writer that
  // wrote half a line and went: its bytes were glued to the next writer's scan). 0 = never.
  std::int64_t line_timeout_s = 10;
  bool operator==(const StdinSettings&) const = default;
};

struct ScannerConfig {
  std::string id;
  MovementKind role = MovementKind::kPick;  // receive | pick | return | count
  std::int64_t double_read_ms = 300;         // same data from this scanner within it = one scan
  // The most units one scan may move (a QTY code, AI (30) or (37) times the pack): more is a
  // reject, never a movement. A SKU's own `max_qty_per_scan` takes precedence.
  std::int64_t max_qty_per_scan = 10000;
  // Rejects recorded one row each per second; more in the same second (a wrong baud rate, a
  // junk flood) become one row with their count when the second ends.
  std::int64_t max_rejects_per_s = 20;
  std::variant<EvdevSettings, SerialSettings, TcpSettings, StdinSettings> driver;
  bool operator==(const ScannerConfig&) const = default;
};

std::string_view driver_name(const ScannerConfig& s);

// Reads the `scanners` array. Problems are added to `p` with their JSON path.
void read_scanners(const nlohmann::json& array, Problems& p, std::vector<ScannerConfig>& out);
// Two listeners on one port clash when they name the same address or either is a wildcard
// (0.0.0.0 or :: takes the port on every address). For the TCP scanners and the console.
bool listeners_clash(const std::string& a, const std::string& b);

}  // namespace depot
