#include "app/sensors_cli.hpp"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <utility>
#include <nlohmann/json.hpp>

#include "core/coldchain/reading.hpp"
#include "sensor/hwmon/hwmon_sensor.hpp"
#include "sensor/sensor.hpp"

namespace depot::app {
namespace {

namespace fs = std::filesystem;
using coldchain::Quality;
using coldchain::SensorValue;

using Pending = std::shared_ptr<std::optional<SensorValue>>;  // set when its read is done

struct Found {
  std::string id;     // w1: the device; hwmon: the input relative to the root
  std::string name;   // hwmon: the chip's `name`
  std::string label;  // hwmon: temp<N>_label
  Pending value;
};

// Reads the values on worker threads with the drivers' deadline, all at once: a read that
// never returns (a hung 1-Wire bus, a stuck i2c chip) is reported as such after
// drivers::kReadDeadline, and the others are read meanwhile (discovery waited forever, then
// 10 s per hung probe, one after another); its thread is left to it.
class ValueReader {
 public:
  Pending start(const std::string& path, bool w1) {
    auto result = std::make_shared<std::optional<SensorValue>>();
    pending_.push_back(result);
    reads_->run(
        io_, drivers::kReadDeadline,
        [path] {
          std::pair<int, std::string> r;
          r.first = drivers::read_small_file(path, r.second);
          return r;
        },
        [result, path, w1](std::pair<int, std::string> r) {
          if (*result) return;  // reported as hung already
          if (r.first != 0)
            *result = drivers::read_failure(path, r.first);
          else
            *result = w1 ? coldchain::parse_w1_slave(r.second, std::nullopt)
                         : coldchain::parse_hwmon_input(r.second);
        },
        [result, path] {
          *result = SensorValue::rejected(
              Quality::kNoData, drivers::hung_text("read of " + path, drivers::kReadDeadline));
        });
    return result;
  }

  // Until every read started has its value.
  void wait() {
    io_.restart();
    auto done = [&] {
      return std::all_of(pending_.begin(), pending_.end(), [](const Pending& p) { return p->has_value(); });
    };
    while (!done() && io_.run_one() > 0) {
    }
  }

 private:
  boost::asio::io_context io_;  // declared first: the reads' gate closes before it goes
  // One thread, and one more whenever a read is queued while none is idle: every read starts
  // at once (a probe is read once, so the threads are bounded by the probes found).
  std::shared_ptr<drivers::BlockingReads> reads_ = drivers::BlockingReads::shared("discover", 1, true, drivers::kW1ConversionStagger);
  std::vector<Pending> pending_;
};

const SensorValue& value_of(const Found& f) {
  static const SensorValue missing = SensorValue::rejected(Quality::kNoData, "read failed");
  return f.value && *f.value ? **f.value : missing;
}

// Sorts "temp10_input" after "temp2_input" and "hwmon10" after "hwmon2".
bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      std::size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      auto na = std::stoull(a.substr(i, std::min<std::size_t>(ie - i, 18)));
      auto nb = std::stoull(b.substr(j, std::min<std::size_t>(je - j, 18)));
      if (na != nb) return na < nb;
      i = ie, j = je;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i, ++j;
  }
  return a.size() - i < b.size() - j;
}

std::vector<std::string> sorted_entries(const std::string& dir, std::error_code& ec) {
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  std::sort(names.begin(), names.end(), natural_less);
  return names;
}

std::vector<Found> discover_w1(const std::string& root, ValueReader& reader, std::string& problem) {
  std::vector<Found> out;
  std::error_code ec;
  auto names = sorted_entries(root, ec);
  if (ec) {
    problem = root + ": " + ec.message();
    return out;
  }
  for (const auto& n : names) {
    if (n.rfind("28-", 0) != 0) continue;
    Found f;
    f.id = n;
    f.value = reader.start(root + "/" + n + "/w1_slave", true);
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Found> discover_hwmon(const std::string& root, ValueReader& reader,
                                  std::string& problem) {
  std::vector<Found> out;
  std::error_code ec;
  auto chips = sorted_entries(root, ec);
  if (ec) {
    problem = root + ": " + ec.message();
    return out;
  }
  for (const auto& chip : chips) {
    std::error_code ec2;
    auto files = sorted_entries(root + "/" + chip, ec2);
    if (ec2) continue;  // not a folder
    for (const auto& file : files) {
      if (file.rfind("temp", 0) != 0 || file.size() < 11 ||
          file.compare(file.size() - 6, 6, "_input") != 0)
        continue;
      const std::string path = root + "/" + chip + "/" + file;
      Found f;
      f.id = chip + "/" + file;
      f.name = drivers::HwmonSensor::chip_name_of(path);
      f.label = drivers::HwmonSensor::label_of(path);
      f.value = reader.start(path, false);
      out.push_back(std::move(f));
    }
  }
  return out;
}

nlohmann::json value_json(const SensorValue& v) {
  nlohmann::json j;
  j["quality"] = std::string(coldchain::to_string(v.quality));
  if (v.quality == Quality::kGood || v.quality == Quality::kImplausible)
    j["celsius"] = v.celsius;
  else
    j["celsius"] = nullptr;
  j["reason"] = v.reason;
  return j;
}

std::string value_text(const SensorValue& v) {
  if (v.quality == Quality::kGood) return coldchain::format_celsius(v.celsius) + " °C";
  return std::string(coldchain::to_string(v.quality)) + ": " + v.reason;
}

}  // namespace

namespace {
int cmd_sensors(const Args& a, std::ostream& out, std::ostream& err) {
  if (a.positional().empty() || a.positional()[0] != "discover") {
    err << "depot-agent sensors: give a subcommand: depot-agent sensors discover [--w1-root DIR] "
           "[--hwmon-root DIR] [--json]\n";
    return kBadInput;
  }
  const std::string w1_root =
      drivers::trim_root(a.get("--w1-root").value_or(coldchain::W1Source{}.root));
  const std::string hwmon_root =
      drivers::trim_root(a.get("--hwmon-root").value_or(coldchain::HwmonSource{}.root));
  std::string w1_problem, hwmon_problem;
  ValueReader reader;
  auto w1 = discover_w1(w1_root, reader, w1_problem);
  auto hwmon = discover_hwmon(hwmon_root, reader, hwmon_problem);
  reader.wait();

  if (a.has("--json")) {
    nlohmann::json j;
    j["w1_root"] = w1_root;
    j["hwmon_root"] = hwmon_root;
    j["w1"] = nlohmann::json::array();
    for (const auto& f : w1) {
      auto e = value_json(value_of(f));
      e["device"] = f.id;
      j["w1"].push_back(e);
    }
    j["hwmon"] = nlohmann::json::array();
    for (const auto& f : hwmon) {
      auto e = value_json(value_of(f));
      e["input"] = f.id;
      e["name"] = f.name;
      e["label"] = f.label;
      j["hwmon"].push_back(e);
    }
    j["problems"] = nlohmann::json::array();
    if (!w1_problem.empty()) j["problems"].push_back(w1_problem);
    if (!hwmon_problem.empty()) j["problems"].push_back(hwmon_problem);
    out << j.dump(2) << "\n";
  } else {
    out << "1-Wire probes under " << w1_root << ":\n";
    if (!w1_problem.empty())
      out << "  (cannot be listed; see stderr)\n";
    else if (w1.empty())
      out << "  none (no 28-* devices)\n";
    for (const auto& f : w1)
      out << "  " << f.id << "  " << value_text(value_of(f)) << "\n"
          << "    config: \"driver\": \"w1\", \"w1\": {\"device\": \"" << f.id << "\""
          << (w1_root == coldchain::W1Source{}.root ? "" : ", \"root\": \"" + w1_root + "\"")
          << "}\n";
    out << "hwmon temperature inputs under " << hwmon_root << ":\n";
    if (!hwmon_problem.empty())
      out << "  (cannot be listed; see stderr)\n";
    else if (hwmon.empty())
      out << "  none (no temp*_input files)\n";
    for (const auto& f : hwmon) {
      out << "  " << f.id;
      if (!f.name.empty()) out << "  name " << f.name;
      if (!f.label.empty()) out << "  label \"" << f.label << "\"";
      out << "  " << value_text(value_of(f)) << "\n"
          << "    config: \"driver\": \"hwmon\", \"hwmon\": {\"input\": \"" << f.id << "\""
          << (hwmon_root == coldchain::HwmonSource{}.root ? ""
                                                          : ", \"root\": \"" + hwmon_root + "\"")
          << "}\n";
    }
  }
  if (!w1_problem.empty())
    err << "depot-agent sensors discover: cannot list " << w1_problem << "\n";
  if (!hwmon_problem.empty())
    err << "depot-agent sensors discover: cannot list " << hwmon_problem << "\n";
  return !w1_problem.empty() && !hwmon_problem.empty() ? 1 : 0;
}

}  // namespace

const std::vector<CliCommand>& sensors_commands() {
  static const std::vector<CliCommand> commands = {
      {"sensors", {{"--w1-root", true, ""}, {"--hwmon-root", true, ""}, kJsonOption},
       [](const Args& a, CliContext& c) { return cmd_sensors(a, c.out, c.err); }, 1},
  };
  return commands;
}

}  // namespace depot::app
