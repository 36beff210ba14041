#include "scanner/scanner.hpp"

#include "scanner/evdev/evdev_scanner.hpp"
#include "scanner/serial/serial_scanner.hpp"
#include "scanner/stdin/stdin_scanner.hpp"
#include "scanner/tcp/tcp_scanner.hpp"

namespace depot::drivers {

std::unique_ptr<Scanner> make_scanner(boost::asio::io_context& io, const ScannerConfig& c,
                                      ScanEvents events) {
  return std::visit(
      [&](const auto& s) -> std::unique_ptr<Scanner> {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, EvdevSettings>)
          return std::make_unique<EvdevScanner>(io, c.id, s, std::move(events));
        else if constexpr (std::is_same_v<T, SerialSettings>)
          return std::make_unique<SerialScanner>(io, c.id, s, std::move(events));
        else if constexpr (std::is_same_v<T, TcpSettings>)
          return std::make_unique<TcpScanner>(io, c.id, s, std::move(events));
        else
          return std::make_unique<StdinScanner>(io, c.id, s, std::move(events));
      },
      c.driver);
}

}  // namespace depot::drivers
