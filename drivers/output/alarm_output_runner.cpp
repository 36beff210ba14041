#include "output/alarm_output_runner.hpp"

#include <fcntl.h>
#include <modbus.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "core/coldchain/reading.hpp"
#include "core/time.hpp"

extern char** environ;

namespace depot::drivers {

namespace cc = coldchain;
using nlohmann::json;

namespace {

std::string fmt(double c) { return cc::format_celsius(c); }

std::string kind_text(cc::AlarmType t) { return std::string(cc::to_string(t)); }

}  // namespace

json output_action_json(const cc::OutputAction& a) {
  const auto& x = a.alarm;
  json j{{"event", cc::to_string(a.event)},
         {"output", a.output},
         {"level", a.level},
         {"repeat", a.repeat},
         {"attempt", a.attempt},
         {"message", output_action_text(a)},
         {"alarm",
          {{"id", x.id},
           {"zone", x.zone},
           {"type", kind_text(x.type)},
           {"side", x.side.empty() ? json() : json(x.side)},
           {"value_c", x.value_c ? json(*x.value_c) : json()},
           {"limit_c", x.limit_c ? json(*x.limit_c) : json()},
           {"probe", x.probe.empty() ? json() : json(x.probe)},
           {"started_at", timefmt::rfc3339_from_unix_ms(x.raised.wall_ms)},
           {"started_wall_ms", x.raised.wall_ms}}}};
  // A reset says whether no other alarm holds the output any more (a shared buzzer stays on).
  if (a.event == cc::OutputEvent::kReset) j["last_holder"] = a.last_holder;
  return j;
}

std::vector<std::string> output_action_env(const cc::OutputAction& a) {
  const auto& x = a.alarm;
  std::vector<std::string> env{
      "DEPOT_EVENT=" + std::string(cc::to_string(a.event)),
      "DEPOT_OUTPUT=" + a.output,
      "DEPOT_ALARM_ID=" + x.id,
      "DEPOT_ZONE=" + x.zone,
      "DEPOT_KIND=" + kind_text(x.type),
      "DEPOT_SIDE=" + x.side,
      "DEPOT_PROBE=" + x.probe,
      "DEPOT_LEVEL=" + std::to_string(a.level),
      "DEPOT_REPEAT=" + std::to_string(a.repeat),
      "DEPOT_ATTEMPT=" + std::to_string(a.attempt),
      "DEPOT_VALUE=" + (x.value_c ? fmt(*x.value_c) : std::string()),
      "DEPOT_LIMIT=" + (x.limit_c ? fmt(*x.limit_c) : std::string()),
      "DEPOT_STARTED_AT=" + timefmt::rfc3339_from_unix_ms(x.raised.wall_ms),
      "DEPOT_MESSAGE=" + output_action_text(a)};
  // A reset: 1 when no other alarm holds the output any more, 0 when one still does.
  if (a.event == cc::OutputEvent::kReset)
    env.push_back(std::string("DEPOT_LAST_HOLDER=") + (a.last_holder ? "1" : "0"));
  return env;
}

std::string output_action_text(const cc::OutputAction& a) {
  const auto& x = a.alarm;
  std::string s = x.zone + ": ";
  // Each kind in its own words and unit: a door left open or a humid room read "temperature
  // alarm ... at 1 C" on the QA phone.
  if (x.type == cc::AlarmType::kProbeFailure) {
    s += "probe_failure alarm (probe " + x.probe + " gives no good reading)";
  } else if (x.type == cc::AlarmType::kDoorOpen) {
    s += "door open alarm (door " + x.probe + " open)";
  } else {
    const bool rh = x.type == cc::AlarmType::kHumidity;
    const char* unit = rh ? " %RH" : " C";
    s += rh ? "humidity alarm" : "temperature alarm";
    if (!x.side.empty()) s += " (" + x.side + ")";
    if (x.value_c) s += " at " + fmt(*x.value_c) + unit;
    if (x.limit_c) s += ", limit " + fmt(*x.limit_c) + unit;
  }
  s += ", since " + timefmt::rfc3339_from_unix_ms(x.raised.wall_ms);
  if (a.event == cc::OutputEvent::kReset)
    s += "; reset";
  else
    s += "; level " + std::to_string(a.level) +
         (a.repeat ? ", repeat " + std::to_string(a.repeat) : "");
  return s;
}

struct AlarmOutputRunner::Shared {
  std::mutex mu;
  std::vector<cc::OutputResult> results;
  std::function<void()> notify;

  void deliver(cc::OutputResult r) {
    {
      std::lock_guard lock(mu);
      results.push_back(std::move(r));
    }
    if (notify) notify();
  }
};

struct AlarmOutputRunner::Worker {
  cc::OutputSpec spec;
  std::shared_ptr<Shared> shared;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<cc::OutputAction> queue;
  bool stop = false;
  pid_t child = 0;  // a running hook (under mu)
  std::thread thread;

  Worker(cc::OutputSpec s, std::shared_ptr<Shared> sh) : spec(std::move(s)), shared(std::move(sh)) {
    thread = std::thread([this] { run(); });
  }

  ~Worker() {
    {
      std::lock_guard lock(mu);
      stop = true;
      if (child > 0) ::kill(-child, SIGKILL);
    }
    cv.notify_all();
    if (thread.joinable()) thread.join();
  }

  void run() {
    // A hook that exits before reading its stdin must not kill the agent with SIGPIPE: the
    // write fails with EPIPE in this thread instead.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    for (;;) {
      cc::OutputAction a;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stop || !queue.empty(); });
        if (stop) return;
        a = std::move(queue.front());
        queue.pop_front();
      }
      cc::OutputResult r;
      r.action = a;
      std::string why = spec.kind == cc::OutputKind::kModbus ? write_coil(a) : run_hook(a);
      {
        std::lock_guard lock(mu);
        if (stop) return;
      }
      r.ok = why.empty();
      r.reason = std::move(why);
      shared->deliver(std::move(r));
    }
  }

  // "" on success, else why not.
  std::string write_coil(const cc::OutputAction& a) {
    const auto& m = spec.modbus;
    const bool on = a.event == cc::OutputEvent::kFire;
    if (!on && !a.last_holder) return {};  // another alarm still holds the coil
    const std::string where = m.host + ":" + std::to_string(m.port) + " unit " +
                              std::to_string(m.unit) + " coil " + std::to_string(m.coil);
    modbus_t* ctx = modbus_new_tcp_pi(m.host.c_str(), std::to_string(m.port).c_str());
    if (!ctx) return "Modbus setup for " + where + " failed: " + modbus_strerror(errno);
    modbus_set_slave(ctx, static_cast<int>(m.unit));
    const auto ms = static_cast<std::uint32_t>(m.timeout_ms);
    modbus_set_response_timeout(ctx, ms / 1000, (ms % 1000) * 1000);
    std::string why;
    if (modbus_connect(ctx) != 0) {
      why = "Modbus connect to " + where + " failed: " + modbus_strerror(errno);
    } else {
      if (modbus_write_bit(ctx, static_cast<int>(m.coil), on ? 1 : 0) != 1)
        why = "Modbus write " + std::string(on ? "1" : "0") + " to " + where +
              " failed: " + modbus_strerror(errno);
      modbus_close(ctx);
    }
    modbus_free(ctx);
    return why;
  }

  std::string run_hook(const cc::OutputAction& a) {
    const auto& cmd = spec.exec.command;
    if (cmd.empty()) return "no command";
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
    // The environment: a fixed PATH, HOME and LANG when the agent has them, and the alarm.
    std::vector<std::string> env{
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    for (const char* keep : {"HOME", "LANG", "TZ"})
      if (const char* v = std::getenv(keep)) env.push_back(std::string(keep) + "=" + v);
    for (auto& e : output_action_env(a)) env.push_back(std::move(e));
    std::vector<char*> argv, envp;
    for (const auto& s : cmd) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    for (const auto& s : env) envp.push_back(const_cast<char*>(s.c_str()));
    envp.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    // Nothing of the agent's beyond stdin/stdout/stderr: not its database, its lock file (a
    // hook's lingering child would make the CLI think the agent still runs) or its sockets.
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);  // its own group: the timeout kills its children too
    posix_spawnattr_setflags(
        &attr,
        static_cast<short>(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP));
    pid_t pid = 0;
    int rc;
    {
      std::lock_guard lock(mu);
      if (stop)
        rc = ECANCELED;
      else
        rc = ::posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
      if (rc == 0) child = pid;
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(fds[0]);
    if (rc != 0) {
      ::close(fds[1]);
      return "cannot start " + cmd[0] + ": " + std::strerror(rc);
    }
    // The JSON (a few hundred bytes, far below a pipe's buffer) then EOF.
    const std::string body = output_action_json(a).dump() + "\n";
    std::size_t off = 0;
    while (off < body.size()) {
      auto n = ::write(fds[1], body.data() + off, body.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EPIPE: the hook does not read its stdin; fine
      off += static_cast<std::size_t>(n);
    }
    ::close(fds[1]);
    // Drop a SIGPIPE that the write may have left pending for this thread.
    {
      sigset_t pipe_set;
      sigemptyset(&pipe_set);
      sigaddset(&pipe_set, SIGPIPE);
      timespec zero{0, 0};
      while (sigtimedwait(&pipe_set, nullptr, &zero) > 0) {
      }
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(spec.exec.timeout_s);
    int status = 0;
    std::string why;
    for (;;) {
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) break;
      if (w < 0 && errno != EINTR) {
        why = std::string("waitpid: ") + std::strerror(errno);
        break;
      }
      bool stopping;
      {
        std::lock_guard lock(mu);
        stopping = stop;
      }
      if (stopping || std::chrono::steady_clock::now() >= deadline) {
        ::kill(-pid, SIGKILL);
        ::kill(pid, SIGKILL);
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        why = stopping ? "stopped with the agent"
                       : "timed out after " + std::to_string(spec.exec.timeout_s) + " s (killed)";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    {
      std::lock_guard lock(mu);
      child = 0;
    }
    if (!why.empty()) return why;
    if (WIFEXITED(status)) {
      if (WEXITSTATUS(status) == 0) return {};
      // posix_spawn may report a program it could not execute as a child that exited 127
      // (it did so once under load, where it usually returns ENOENT): name the cause.
      if (WEXITSTATUS(status) == 127 && ::access(cmd[0].c_str(), X_OK) != 0)
        return "cannot start " + cmd[0] + ": " + std::strerror(errno) + " (exit status 127)";
      return "exit status " + std::to_string(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "ended abnormally";
  }
};

AlarmOutputRunner::AlarmOutputRunner(std::vector<cc::OutputSpec> outputs,
                                     std::function<void()> notify)
    : shared_(std::make_shared<Shared>()) {
  shared_->notify = std::move(notify);
  for (auto& o : outputs) workers_.push_back(std::make_unique<Worker>(std::move(o), shared_));
}

AlarmOutputRunner::~AlarmOutputRunner() { workers_.clear(); }

void AlarmOutputRunner::submit(cc::OutputAction a) {
  for (auto& w : workers_)
    if (w->spec.name == a.output) {
      {
        // A hook slower than its level's repeat must not let the queue grow: an action still
        // waiting for the same alarm and event is replaced by the newer one.
        std::lock_guard lock(w->mu);
        auto same = std::find_if(w->queue.begin(), w->queue.end(), [&](const cc::OutputAction& q) {
          return q.alarm.id == a.alarm.id && q.event == a.event;
        });
        if (same != w->queue.end())
          *same = std::move(a);
        else
          w->queue.push_back(std::move(a));
      }
      w->cv.notify_one();
      return;
    }
  cc::OutputResult r;
  r.action = std::move(a);
  r.reason = "no output named \"" + r.action.output + "\"";
  shared_->deliver(std::move(r));
}

std::vector<cc::OutputResult> AlarmOutputRunner::take_results() {
  std::lock_guard lock(shared_->mu);
  return std::exchange(shared_->results, {});
}

}  // namespace depot::drivers
