// A Modbus TCP server for tests: libmodbus (modbus_new_tcp, modbus_tcp_listen, modbus_receive,
// modbus_reply) on a thread with a mapping of 16 coils, read back with coil(i).
#pragma once

#include <arpa/inet.h>
#include <modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>

namespace depot::test {

inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

class CoilServer {
 public:
  explicit CoilServer(int port) : port_(port) {
    mapping_ = modbus_mapping_new(16, 0, 0, 0);
    ctx_ = modbus_new_tcp("127.0.0.1", port_);
    listen_fd_ = modbus_tcp_listen(ctx_, 4);
    thread_ = std::thread([this] { serve(); });
  }
  ~CoilServer() {
    stop_ = true;
    thread_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    modbus_free(ctx_);
    modbus_mapping_free(mapping_);
  }
  bool listening() const { return listen_fd_ >= 0; }
  int coil(int i) {
    std::lock_guard l(mu_);
    return mapping_->tab_bits[i];
  }
  void set_coil(int i, int v) {
    std::lock_guard l(mu_);
    mapping_->tab_bits[i] = static_cast<std::uint8_t>(v);
  }
  int writes() const { return writes_; }

 private:
  void serve() {
    int client = -1;
    while (!stop_) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {client, POLLIN, 0}};
      if (::poll(fds, client >= 0 ? 2 : 1, 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        if (client >= 0) ::close(client);
        client = modbus_tcp_accept(ctx_, &listen_fd_);
        continue;
      }
      if (client >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
        std::uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
        int rc = modbus_receive(ctx_, q);
        if (rc > 0) {
          std::lock_guard l(mu_);
          modbus_reply(ctx_, q, rc, mapping_);
          ++writes_;
        } else if (rc < 0) {
          ::close(client);
          client = -1;
        }
      }
    }
    if (client >= 0) ::close(client);
  }

  int port_;
  modbus_t* ctx_ = nullptr;
  modbus_mapping_t* mapping_ = nullptr;
  int listen_fd_ = -1;
  std::mutex mu_;
  std::atomic<bool> stop_{false};
  std::atomic<int> writes_{0};
  std::thread thread_;
};

}  // namespace depot::test
