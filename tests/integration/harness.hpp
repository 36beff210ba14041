// What the end-to-end sync tests run: a real mosquitto on a free loopback port (its own
// generated config, persistence in the test's temp dir, stopped by PID), the real
// `depot-agent run` binary fed by a stdin scanner, and a Paho MQTT 5 client standing in for
// the cloud (a persistent session, so a broker restart loses nothing it had acknowledged).
// With DEPOT_TEST_BROKER=aedes (tests/brokers/aedes/run.sh sets it) the broker is aedes instead,
// an MQTT 3.1.1-only broker in node with its sessions in memory, and the cloud client speaks
// 3.1.1 (clean session off). Every wait is bounded.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <mqtt/async_client.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace depot::itest {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a shell command (for openssl); returns its exit code.
inline int sh(const std::string& cmd) { return std::system(cmd.c_str()); }

inline pid_t spawn(const std::vector<std::string>& argv, const std::string& log,
                   int stdin_fd = -1) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    if (stdin_fd >= 0) dup2(stdin_fd, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// Sends `sig` and reaps the child within `limit` (SIGKILL after that).
inline void stop_pid(pid_t& pid, int sig, std::chrono::milliseconds limit = 5000ms) {
  if (pid <= 0) return;
  ::kill(pid, sig);
  auto until = Clock::now() + limit;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() > until) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  pid = -1;
}

inline bool wait_for(const std::function<bool()>& cond, std::chrono::milliseconds limit) {
  auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return cond();
}

// True when the tests run against aedes instead of mosquitto.
inline bool aedes_broker() {
  const char* b = std::getenv("DEPOT_TEST_BROKER");
  return b && std::string(b) == "aedes";
}

struct TlsFiles {
  std::string ca, server_cert, server_key, client_cert, client_key;
};

// A CA, a server certificate for localhost/127.0.0.1 and a client certificate, made with the
// openssl command line.
inline TlsFiles make_certs(const test::TempDir& dir) {
  TlsFiles f{dir.file("ca.pem"), dir.file("server.pem"), dir.file("server.key"),
             dir.file("client.pem"), dir.file("client.key")};
  const std::string d = dir.path().string();
  std::string cmd =
      "cd " + d +
      " && set -e; "
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=depot-test-ca "
      "-keyout ca.key -out ca.pem; "
      "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext; "
      "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr; "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
      "-extfile san.ext -out server.pem; "
      "openssl req -newkey rsa:2048 -nodes -subj /CN=test-site-gw-1 -keyout client.key "
      "-out client.csr; "
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
      "-out client.pem";
  EXPECT_EQ(sh("(" + cmd + ") >" + d + "/openssl.log 2>&1"), 0) << read_file(d + "/openssl.log");
  return f;
}

class Broker {
 public:
  // `extra`: more mosquitto.conf lines (e.g. autosave settings for a test that kill -9s it).
  explicit Broker(const test::TempDir& dir, std::optional<TlsFiles> tls = std::nullopt,
                  const std::string& extra = "")
      : dir_(dir), port_(free_port()), tls_(std::move(tls)) {
    if (tls_) tls_port_ = free_port();
    std::ostringstream c;
    c << "listener " << port_ << " 127.0.0.1\n"
      << "allow_anonymous true\n";
    if (tls_) {
      c << "listener " << tls_port_ << " 127.0.0.1\n"
        << "cafile " << tls_->ca << "\ncertfile " << tls_->server_cert << "\nkeyfile "
        << tls_->server_key << "\nrequire_certificate true\n";
    }
    // Run as ourselves: as root, mosquitto would switch to user "mosquitto", which cannot write
    // the persistence file into the test's private folder.
    if (const passwd* pw = ::getpwuid(::geteuid())) c << "user " << pw->pw_name << "\n";
    c << "persistence true\npersistence_location " << dir.path().string() << "/\n"
      << "persistence_file mosquitto.db\n"
      << "max_queued_messages 0\nmax_inflight_messages 0\n"
      << "log_dest stdout\nlog_type error\nlog_type warning\n"
      << "log_type notice\nlog_type information\n"
      << extra;
    conf_ = dir.file("mosquitto.conf");
    test::write_file(conf_, c.str());
  }
  ~Broker() { stop(SIGTERM); }

  void start() {
    if (aedes_broker()) {
      ASSERT_FALSE(tls_) << "the aedes broker has no TLS listener here";
      const char* d = std::getenv("DEPOT_AEDES_DIR");
      ASSERT_TRUE(d) << "DEPOT_AEDES_DIR is not set (run through tests/brokers/aedes/run.sh)";
      const auto before = log().size();
      // Sessions in memory: a restart loses them (tests/brokers/aedes/README.md says why).
      pid_ = spawn({"/usr/bin/env", "node", std::string(d) + "/broker.js", std::to_string(port_)},
                   dir_.file("mosquitto.out"));
      // It prints "listening PORT" once ready (a restart appends to the same log).
      ASSERT_TRUE(
          wait_for([&] { return log().find("listening ", before) != std::string::npos; }, 10000ms))
          << "aedes did not listen: " << log();
      return;
    }
    pid_ = spawn({"/usr/sbin/mosquitto", "-c", conf_}, dir_.file("mosquitto.out"));
    ASSERT_TRUE(wait_for([&] { return port_open(port_); }, 5000ms))
        << "mosquitto did not listen: " << read_file(dir_.file("mosquitto.out"));
  }
  // SIGTERM lets mosquitto save its persistence file (its sessions and queued messages).
  void stop(int sig = SIGTERM) { stop_pid(pid_, sig); }
  int port() const { return port_; }
  int tls_port() const { return tls_port_; }
  std::string log() const { return read_file(dir_.file("mosquitto.out")); }

 private:
  const test::TempDir& dir_;
  int port_, tls_port_ = 0;
  std::optional<TlsFiles> tls_;
  std::string conf_;
  pid_t pid_ = -1;
};

struct Message {
  std::string topic, payload;
  bool retained = false;
  std::optional<std::string> correlation;
};

// The cloud side: an MQTT 5 client with a persistent session (expiry one hour, kept across
// disconnects) subscribed to depot/v1/# (and cloud/# for MQTT 5 response topics). A test
// that restarts the broker disconnects it first and connects a new one after.
class Cloud {
 public:
  explicit Cloud(int port, std::string id = "cloud-test")
      : v5_(!aedes_broker()),
        client_("tcp://127.0.0.1:" + std::to_string(port), id,
                mqtt::create_options(v5_ ? MQTTVERSION_5 : MQTTVERSION_3_1_1)) {
    client_.set_message_callback([this](mqtt::const_message_ptr m) {
      Message msg{m->get_topic(), m->get_payload_str(), m->is_retained(), std::nullopt};
      if (m->get_properties().contains(mqtt::property::CORRELATION_DATA))
        msg.correlation =
            mqtt::get<std::string>(m->get_properties(), mqtt::property::CORRELATION_DATA);
      std::lock_guard<std::mutex> lock(mu_);
      messages_.push_back(std::move(msg));
    });
    client_.set_connected_handler([this](const std::string&) {
      try {
        client_.subscribe("depot/v1/#", 1);
        client_.subscribe("cloud/#", 1);
      } catch (...) {
      }
    });
    mqtt::connect_options opts;
    if (v5_) {
      opts.set_mqtt_version(MQTTVERSION_5);
      opts.set_clean_start(false);
      mqtt::properties props;
      props.add(mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL, 3600));
      opts.set_properties(props);
    } else {
      // MQTT 3.1.1 (aedes): clean session off keeps the session across disconnects.
      opts.set_mqtt_version(MQTTVERSION_3_1_1);
      opts.set_clean_session(false);
    }
    client_.connect(opts)->wait_for(5000ms);
    client_.subscribe("depot/v1/#", 1)->wait_for(5000ms);
    client_.subscribe("cloud/#", 1)->wait_for(5000ms);
  }
  ~Cloud() { disconnect(); }
  void disconnect() {
    try {
      // Keep the session (and what the broker queues for it) after this disconnect.
      mqtt::disconnect_options d;
      if (v5_) {
        mqtt::properties props;
        props.add(mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL, 3600));
        d.set_properties(props);
      }
      if (client_.is_connected()) client_.disconnect(d)->wait_for(2000ms);
    } catch (...) {
    }
  }

  std::vector<Message> messages() {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }
  std::vector<Message> on(const std::string& suffix) {
    std::vector<Message> out;
    for (auto& m : messages())
      if (m.topic.size() >= suffix.size() &&
          m.topic.compare(m.topic.size() - suffix.size(), suffix.size(), suffix) == 0)
        out.push_back(m);
    return out;
  }
  // Every record of `stream` received, in arrival order (duplicates included).
  std::vector<nlohmann::json> records(const std::string& stream) {
    std::vector<nlohmann::json> out;
    for (auto& m : on("/" + stream)) {
      auto envelope = nlohmann::json::parse(m.payload);
      for (auto& r : envelope["records"]) out.push_back(r);
    }
    return out;
  }
  // The distinct seqs of `stream` received.
  std::set<std::int64_t> seqs(const std::string& stream) {
    std::set<std::int64_t> s;
    for (auto& r : records(stream)) s.insert(r["seq"].get<std::int64_t>());
    return s;
  }
  void publish(const std::string& topic, const std::string& payload,
               const std::optional<std::string>& response_topic = std::nullopt,
               const std::optional<std::string>& correlation = std::nullopt,
               bool retained = false) {
    auto msg = mqtt::make_message(topic, payload, 1, retained);
    if (v5_) {
      mqtt::properties props;
      if (response_topic) props.add({mqtt::property::RESPONSE_TOPIC, *response_topic});
      if (correlation) props.add({mqtt::property::CORRELATION_DATA, *correlation});
      msg->set_properties(props);
    }
    client_.publish(msg)->wait_for(5000ms);
  }
  // Messages a previous client with the same session received.
  void add(const std::vector<Message>& earlier) {
    std::lock_guard<std::mutex> lock(mu_);
    messages_.insert(messages_.begin(), earlier.begin(), earlier.end());
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mu_);
    messages_.clear();
  }

 private:
  bool v5_;  // before client_: it chooses the client's MQTT version
  mqtt::async_client client_;
  std::mutex mu_;
  std::vector<Message> messages_;
};

// `depot-agent run` with a stdin scanner (role receive) fed through a pipe.
class Agent {
 public:
  Agent(const test::TempDir& dir, std::string config) : dir_(dir), config_(std::move(config)) {
    ::signal(SIGPIPE, SIG_IGN);  // writing to a killed agent's stdin must fail, not kill us
  }
  ~Agent() { stop(SIGKILL); }

  void start() {
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    pid_ = spawn({DEPOT_AGENT_BIN, "run", "-c", config_}, dir_.file("agent.log"), p[0]);
    ::close(p[0]);
    in_ = p[1];
  }
  // False when the agent no longer reads (killed).
  bool scan(const std::string& code) {
    std::string line = code + "\n";
    return ::write(in_, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  }
  // SIGKILL without closing its standard input (so a feeding thread may keep writing).
  void kill9() {
    if (pid_ > 0) ::kill(pid_, SIGKILL);
  }
  void stop(int sig) {
    if (in_ >= 0) ::close(in_), in_ = -1;
    stop_pid(pid_, sig, 8000ms);
  }
  bool running() const {
    int status = 0;
    return pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == 0;
  }
  std::string log() const { return read_file(dir_.file("agent.log")); }
  pid_t pid() const { return pid_; }

 private:
  const test::TempDir& dir_;
  std::string config_;
  pid_t pid_ = -1;
  int in_ = -1;
};

// A config: the sample catalog, a stdin receive scanner, and `mqtt` (raw JSON object text).
inline std::string agent_config(const std::string& database, const std::string& mqtt) {
  auto c = test::sample_config(database);
  c.pop_back();  // the final "}"
  while (!c.empty() && (c.back() == '\n' || c.back() == ' ')) c.pop_back();
  c += R"(,
  "durability": {"batch_max_ms": 2},
  "scanners": [{"id": "dock", "role": "receive", "driver": "stdin", "double_read_ms": 0}])";
  if (!mqtt.empty()) c += ",\n  \"mqtt\": " + mqtt;
  return c + "\n}\n";
}

}  // namespace depot::itest
