#pragma once
// The probe commands of extra resources (facility.resources[].probe): each runs through /bin/sh
// on the gateway's host every probe_interval, under timeout(1) with its probe_timeout; exit 0
// is up, anything else down. One thread runs them one after another, off the request threads.
// Thread-safety: start() and stop() from one thread.

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "facility/model.hpp"
#include "facility/status_book.hpp"

namespace portico::facility {

// Runs one probe command; the exit status decides. Blocking.
Observation run_probe_command(const std::string& resource_id, const std::string& command,
                              std::chrono::milliseconds timeout);

class ExtraProbes {
 public:
  using Report = std::function<void(const Observation&)>;
  ExtraProbes(const Model& model, const config::Facility& config, Report report);
  ~ExtraProbes();

  void start();
  void stop();

 private:
  struct Item {
    std::string resource_id;
    std::string command;
    std::chrono::milliseconds interval;
    std::chrono::milliseconds timeout;
    std::chrono::steady_clock::time_point due;
  };
  void loop();

  std::vector<Item> items_;
  Report report_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace portico::facility
