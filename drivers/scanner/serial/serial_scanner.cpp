#include "scanner/serial/serial_scanner.hpp"

namespace depot::drivers {

using boost::asio::serial_port_base;

SerialScanner::SerialScanner(boost::asio::io_context& io, std::string id, SerialSettings s,
                             ScanEvents events)
    : id_(std::move(id)),
      settings_(std::move(s)),
      events_(std::move(events)),
      port_(io),
      reopen_(io, std::chrono::seconds(settings_.reopen_max_s)),
      lines_(settings_.terminator, static_cast<std::size_t>(settings_.max_line),
             [this](std::string l) { events_.scan(std::move(l)); },
             [this](std::string h, std::string r) { events_.reject(std::move(h), std::move(r)); }) {}

void SerialScanner::start() { open(); }

void SerialScanner::open() {
  if (stopped_) return;
  boost::system::error_code ec;
  port_.open(settings_.path, ec);
  auto set = [&](const auto& option) {
    if (!ec) port_.set_option(option, ec);
  };
  set(serial_port_base::baud_rate(static_cast<unsigned>(settings_.baud)));
  set(serial_port_base::character_size(static_cast<unsigned>(settings_.data_bits)));
  set(serial_port_base::parity(settings_.parity == Parity::kNone   ? serial_port_base::parity::none
                               : settings_.parity == Parity::kEven ? serial_port_base::parity::even
                                                                   : serial_port_base::parity::odd));
  set(serial_port_base::stop_bits(settings_.stop_bits == 2 ? serial_port_base::stop_bits::two
                                                           : serial_port_base::stop_bits::one));
  set(serial_port_base::flow_control(serial_port_base::flow_control::none));
  if (ec) {
    boost::system::error_code ignored;
    port_.close(ignored);
    reopen_.schedule("cannot open " + settings_.path + ": " + ec.message(), events_, [this] { open(); });
    return;
  }
  reopen_.opened();
  lines_.clear();
  events_.status(false, "opened " + settings_.path + " at " + std::to_string(settings_.baud) + " baud");
  read();
}

void SerialScanner::read() {
  port_.async_read_some(boost::asio::buffer(buf_), [this](const boost::system::error_code& ec,
                                                         std::size_t n) {
    if (stopped_ || ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      boost::system::error_code ignored;
      port_.close(ignored);
      reopen_.schedule(settings_.path + " unplugged or failed: " + ec.message(), events_, [this] { open(); });
      return;
    }
    lines_.feed(std::string_view(buf_.data(), n));
    read();
  });
}

void SerialScanner::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  reopen_.cancel();
  port_.close(ec);
}

}  // namespace depot::drivers
