#include "core/scanner_config.hpp"

#include <arpa/inet.h>

#include <filesystem>
#include <set>
#include <utility>
#include <vector>

namespace depot {

std::string_view driver_name(const ScannerConfig& s) {
  switch (s.driver.index()) {
    case 0: return "evdev";
    case 1: return "serial";
    case 2: return "tcp";
    default: return "stdin";
  }
}

namespace {

bool valid_baud(std::int64_t b) {
  for (std::int64_t ok : {1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400})
    if (b == ok) return true;
  return false;
}

bool wildcard(const std::string& address) {
  return address == "0.0.0.0" || address == "::" || address == "[::]" || address.empty();
}

// A device path as written, normalised lexically ("./x.pipe" and "x.pipe", "/dev//ttyS0" and
// "/dev/ttyS0" are one device). Pure: symlinks are not followed.
std::string normal_path(const std::string& path) {
  if (path.empty()) return path;
  auto n = std::filesystem::path(path).lexically_normal().string();
  while (n.size() > 1 && n.back() == '/') n.pop_back();
  return n;
}

using TcpPorts = std::vector<std::pair<std::pair<std::string, std::int64_t>, std::string>>;

void read_one(const nlohmann::json& j, const std::string& path, Problems& p,
              std::vector<ScannerConfig>& out, std::set<std::string>& ids,
              std::set<std::string>& endpoints, TcpPorts& tcp_ports) {
  ObjectReader r(j, path, p);
  if (!r.is_object()) return;
  const auto before = p.items().size();
  ScannerConfig s;
  if (auto id = r.identifier("id", true)) {
    s.id = *id;
    if (!ids.insert(s.id).second) p.add(r.path_of("id"), describe(s.id) + " is already used by another scanner");
  }
  if (auto role = r.one_of("role", true, {"receive", "pick", "return", "count"}))
    s.role = *parse_movement_kind(*role);
  s.double_read_ms = r.integer_or("double_read_ms", s.double_read_ms, 0, 10000);
  s.max_qty_per_scan = r.integer_or("max_qty_per_scan", s.max_qty_per_scan, 1, 1'000'000'000);
  s.max_rejects_per_s = r.integer_or("max_rejects_per_s", s.max_rejects_per_s, 1, 100000);
  auto driver = r.one_of("driver", true, {"evdev", "serial", "tcp", "stdin"});
  std::string endpoint;
  if (driver == "evdev") {
    EvdevSettings e;
    if (auto v = r.string("path", true)) e.path = *v;
    if (auto v = r.boolean("grab", false)) e.grab = *v;
    if (auto v = r.one_of("layout", false, {"us", "de"})) e.layout = *v;
    e.reopen_max_s = r.integer_or("reopen_max_s", e.reopen_max_s, 1, 3600);
    endpoint = normal_path(e.path);
    s.driver = e;
  } else if (driver == "serial") {
    SerialSettings e;
    if (auto v = r.string("path", true)) e.path = *v;
    if (auto b = r.integer("baud", false)) {
      if (valid_baud(*b))
        e.baud = *b;
      else
        p.add(r.path_of("baud"), std::to_string(*b) +
                                     " is not a standard baud rate (1200-230400, e.g. 9600, 115200)");
    }
    if (auto v = r.one_of("parity", false, {"none", "even", "odd"}))
      e.parity = *v == "none" ? Parity::kNone : *v == "even" ? Parity::kEven : Parity::kOdd;
    e.data_bits = r.integer_or("data_bits", e.data_bits, 5, 8);
    e.stop_bits = r.integer_or("stop_bits", e.stop_bits, 1, 2);
    if (auto v = r.one_of("terminator", false, {"cr", "lf", "crlf"}))
      e.terminator = *v == "cr" ? Terminator::kCr : *v == "lf" ? Terminator::kLf : Terminator::kCrLf;
    e.max_line = r.integer_or("max_line", e.max_line, 8, 4096);
    e.reopen_max_s = r.integer_or("reopen_max_s", e.reopen_max_s, 1, 3600);
    endpoint = normal_path(e.path);
    s.driver = e;
  } else if (driver == "tcp") {
    TcpSettings e;
    e.listen = r.string_or("listen", e.listen);
    // Bound before any resolver is asked: an address, never a name (as console.listen).
    // A scoped IPv6 address (fe80::1%eth0) is an address too: its scope is an interface name.
    unsigned char addr[16];
    const auto unscoped = e.listen.substr(0, e.listen.find('%'));
    if (::inet_pton(AF_INET, e.listen.c_str(), addr) != 1 &&
        ::inet_pton(AF_INET6, unscoped.c_str(), addr) != 1)
      p.add(r.path_of("listen"), describe(e.listen) +
                                     " is not an IPv4 or IPv6 address (host names are not accepted)");
    if (auto port = r.integer("port", true, 1, 65535)) e.port = *port;
    e.max_clients = r.integer_or("max_clients", e.max_clients, 1, 256);
    e.max_line = r.integer_or("max_line", e.max_line, 8, 4096);
    e.idle_timeout_s = r.integer_or("idle_timeout_s", e.idle_timeout_s, 0, 86400);
    e.line_timeout_s = r.integer_or("line_timeout_s", e.line_timeout_s, 0, 86400);
    if (auto v = r.boolean("station_per_client", false)) e.station_per_client = *v;
    // One port, one listener: 0.0.0.0 (or ::) takes the port on every address, so it
    // conflicts with any other address on the same port.
    for (const auto& [other, other_path] : tcp_ports) {
      if (other.second != e.port) continue;
      if (listeners_clash(other.first, e.listen))
        p.add(path, "port " + std::to_string(e.port) + " on " + describe(e.listen) +
                        " is already taken by " + other_path + " on " + describe(other.first));
    }
    tcp_ports.emplace_back(std::make_pair(e.listen, e.port), path);
    s.driver = e;
  } else if (driver == "stdin") {
    StdinSettings e;
    e.path = r.string_or("path", "");
    e.max_line = r.integer_or("max_line", e.max_line, 8, 4096);
    e.line_timeout_s = r.integer_or("line_timeout_s", e.line_timeout_s, 0, 86400);
    endpoint = e.path.empty() ? "stdin" : normal_path(e.path);
    s.driver = e;
  } else {
    // Still mark the driver keys as known so the only problem reported is the driver's.
    for (auto k : {"path", "grab", "layout", "reopen_max_s", "baud", "parity", "data_bits",
                   "stop_bits", "terminator", "max_line", "listen", "port", "max_clients",
                   "idle_timeout_s", "line_timeout_s", "station_per_client"})
      r.get(k, false);
  }
  if (!endpoint.empty() && !endpoints.insert(endpoint).second)
    p.add(path, "two scanners read the same device " + describe(endpoint));
  r.finish();
  if (p.items().size() == before) out.push_back(std::move(s));
}

}  // namespace

bool listeners_clash(const std::string& a, const std::string& b) {
  return a == b || wildcard(a) || wildcard(b);
}

void read_scanners(const nlohmann::json& array, Problems& p, std::vector<ScannerConfig>& out) {
  std::set<std::string> ids, endpoints;
  TcpPorts tcp_ports;
  for (std::size_t i = 0; i < array.size(); ++i)
    read_one(array[i], "scanners[" + std::to_string(i) + "]", p, out, ids, endpoints, tcp_ports);
}

}  // namespace depot
