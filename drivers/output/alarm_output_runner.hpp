// The I/O half of the alarm outputs (core/coldchain/escalation.hpp decides what fires when):
// runs each OutputAction on the output's own worker thread, so a slow coil or a hanging hook
// never blocks the event loop nor another output, and hands the results back.
//  * modbus: connects (Modbus TCP, connect and response bounded by `timeout_ms`), writes the
//    coil (fire: 1; reset: 0, only when `last_holder`), disconnects.
//  * exec: posix_spawn of `command` (no shell, own process group, a minimal environment plus
//    DEPOT_* variables describing the alarm — on reset DEPOT_LAST_HOLDER=1/0, whether no other
//    alarm still holds the output — the alarm as JSON on stdin); waited for without
//    blocking the loop (the worker polls waitpid for this PID only); killed with SIGKILL (its
//    process group) at `timeout_s`. Exit status 0 is success.
// docs/coldchain.md, "Alarm outputs and escalation", lists the variables and the JSON.
// Threading: submit/take_results from one thread (the loop); results are produced on the
// workers and `notify` (optional) is called there after each one. The destructor kills running
// hooks and joins the workers.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/coldchain/escalation.hpp"

namespace depot::drivers {

class AlarmOutputRunner {
 public:
  AlarmOutputRunner(std::vector<coldchain::OutputSpec> outputs, std::function<void()> notify = {});
  ~AlarmOutputRunner();
  AlarmOutputRunner(const AlarmOutputRunner&) = delete;
  AlarmOutputRunner& operator=(const AlarmOutputRunner&) = delete;

  // Queues `a` on its output's worker (an unknown output yields a failed result). An action
  // still queued for the same alarm and event is replaced (a slow hook, a fast repeat).
  void submit(coldchain::OutputAction a);
  // Results finished since the last call, in completion order.
  std::vector<coldchain::OutputResult> take_results();

 private:
  struct Worker;
  struct Shared;
  std::shared_ptr<Shared> shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

// What a hook receives: the JSON on its stdin and its DEPOT_* environment ("NAME=value").
nlohmann::json output_action_json(const coldchain::OutputAction& a);
std::vector<std::string> output_action_env(const coldchain::OutputAction& a);
// One line for people (log, SMS text): "pharma-1: temperature alarm (high) at 12.0 C, limit 8 C,
// since 2026-12-04T21:00:00Z; level 2".
std::string output_action_text(const coldchain::OutputAction& a);

}  // namespace depot::drivers
