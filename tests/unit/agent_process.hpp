// Running the real depot-agent binary from tests: one-shot commands with their exit code,
// stdout and stderr, and the daemon as a child process with its log in a file, stopped by
// its PID. Every wait is bounded.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace depot::test {

struct Run {
  int code = -1;
  std::string out, err;
};

inline std::string drain_fd(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
  return s;
}

// Runs `program args...`, returns its exit code and output.
inline Run run_program(const std::string& program, std::vector<std::string> args) {
  int out[2], err[2];
  if (pipe(out) != 0 || pipe(err) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    close(out[0]), close(err[0]), close(out[1]), close(err[1]);
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]), close(err[1]);
  Run r;
  r.out = drain_fd(out[0]);
  r.err = drain_fd(err[0]);
  close(out[0]), close(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The agent binary with `args` (behind the emulator in a cross build).
inline Run run_agent(std::vector<std::string> args) {
  auto cmd = agent_command();
  std::string program = cmd.front();
  cmd.erase(cmd.begin());
  cmd.insert(cmd.end(), args.begin(), args.end());
  return run_program(program, std::move(cmd));
}

// `depot-agent run -c CONFIG` as a child, stderr to `log_path`.
class AgentProcess {
 public:
  AgentProcess(const std::string& config, std::string log_path) : log_(std::move(log_path)) {
    pid_ = fork();
    if (pid_ == 0) {
      FILE* f = std::fopen(log_.c_str(), "w");
      if (f) dup2(fileno(f), 2);
      exec_agent({"run", "-c", config});
    }
  }
  ~AgentProcess() { stop(); }

  std::string log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Waits (bounded) until the log contains `needle`.
  bool wait_for_log(const std::string& needle, std::chrono::milliseconds limit) const {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (log().find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  // Waits (bounded) for the agent to exit on its own; its exit status, or -1 if it did not.
  int wait_exit(std::chrono::milliseconds limit) {
    if (pid_ <= 0) return exit_code_;
    auto end = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < end) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  // SIGTERM and wait; returns the exit status (or -1 when it did not exit normally).
  int stop() {
    if (pid_ <= 0) return exit_code_;
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 500; ++i) {  // 10 s at most, then SIGKILL
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return exit_code_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return exit_code_ = -1;
  }
  pid_t pid() const { return pid_; }

 private:
  std::string log_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

}  // namespace depot::test
