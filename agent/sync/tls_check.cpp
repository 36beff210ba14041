#include "sync/tls_check.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace depot::sync {

namespace {

std::string openssl_error(const std::string& what) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return what;
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return what + ": " + buf;
}

// A connected TCP socket within `timeout`, or -1 with `why` set.
int connect_to(const std::string& host, int port, std::chrono::milliseconds timeout,
               std::string& why) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0) {
    why = "cannot resolve " + host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (auto* a = res; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 ? 0 : -1;
      int err = 0;
      socklen_t len = sizeof err;
      if (rc == 0 && (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)) {
        errno = err;
        rc = -1;
      }
    }
    if (rc == 0) break;
    why = "cannot connect: " + std::string(std::strerror(errno));
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) return -1;
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(timeout.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

}  // namespace

std::string tls_failure_reason(const std::string& host, int port, const MqttTls& tls,
                               std::chrono::milliseconds timeout) {
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        &SSL_CTX_free);
  if (!ctx) return openssl_error("cannot create a TLS context");
  if (SSL_CTX_load_verify_locations(ctx.get(), tls.ca.c_str(), nullptr) != 1)
    return openssl_error("the CA file " + tls.ca + " does not load");
  if (!tls.cert.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert.c_str()) != 1)
      return openssl_error("the client certificate " + tls.cert + " does not load");
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key.c_str(), SSL_FILETYPE_PEM) != 1)
      return openssl_error("the client key " + tls.key + " does not load");
    if (SSL_CTX_check_private_key(ctx.get()) != 1)
      return openssl_error("the client key " + tls.key + " does not match " + tls.cert);
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  std::string why;
  int fd = connect_to(host, port, timeout, why);
  if (fd < 0) return why;
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), &SSL_free);
  std::string reason;
  if (!ssl) {
    reason = openssl_error("cannot create a TLS session");
  } else {
    in6_addr ip{};
    const bool is_ip = ::inet_pton(AF_INET, host.c_str(), &ip) == 1 ||
                       ::inet_pton(AF_INET6, host.c_str(), &ip) == 1;
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl.get(), host.c_str());
      SSL_set1_host(ssl.get(), host.c_str());
    }
    SSL_set_fd(ssl.get(), fd);
    if (SSL_connect(ssl.get()) == 1) {
      SSL_shutdown(ssl.get());
    } else {
      long v = SSL_get_verify_result(ssl.get());
      if (v != X509_V_OK)
        reason = std::string("the broker's certificate failed verification: ") +
                 X509_verify_cert_error_string(v);
      else
        reason = openssl_error("the TLS handshake failed");
    }
  }
  ::close(fd);
  ERR_clear_error();
  return reason;
}

}  // namespace depot::sync
