// The portico binary: command-line entry point.
#include <malloc.h>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "app/gateway.hpp"
#include "app/incident_command.hpp"
#include "config/config.hpp"
#include "portico/version.hpp"

namespace {

void usage(std::ostream& out) {
  out << "usage: portico --config FILE [--check | --openapi]\n"
         "       portico --config FILE incident list|declare|cancel ...\n"
         "       portico --version\n"
         "  --config FILE  the YAML configuration\n"
         "  --check        validate the configuration, print every problem, and exit\n"
         "  --openapi      print the OpenAPI document of the APIs served, and exit\n"
         "  incident       planned incidents in the store (`portico --config FILE incident` for more)\n";
}

}  // namespace

int main(int argc, char** argv) {
  // Replies of a few hundred KB (a page of incidents, a file view) are allocated and freed per
  // request: above glibc's default 128 KiB threshold each one is a fresh mmap whose pages fault
  // and are zeroed, which measured as a third of the server's time. Keep them on the heap.
  mallopt(M_MMAP_THRESHOLD, 16 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
  std::string config_path;
  bool check = false;
  bool openapi = false;
  std::vector<std::string> incident;
  bool incident_command = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (incident_command) {
      incident.push_back(arg);
      continue;
    }
    if (arg == "--version") {
      std::cout << "portico " << portico::kVersion << " (FirecREST API " << portico::kFirecrestApiVersion
                << ")\n";
      return 0;
    } else if (arg == "--help" || arg == "-h") {
      usage(std::cout);
      return 0;
    } else if (arg == "--check") {
      check = true;
    } else if (arg == "--openapi") {
      openapi = true;
    } else if (arg == "incident") {
      incident_command = true;
    } else if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else {
      std::cerr << "portico: unknown argument '" << arg << "'\n";
      usage(std::cerr);
      return 2;
    }
  }
  if (config_path.empty()) {
    usage(std::cerr);
    return 2;
  }
  auto loaded = portico::config::load_config(config_path);
  if (!loaded.errors.empty()) {
    for (const auto& e : loaded.errors)
      std::cerr << config_path << ": " << (e.key.empty() ? "" : e.key + ": ") << e.message << "\n";
    std::cerr << "portico: configuration has " << loaded.errors.size() << " error(s)\n";
    return 1;
  }
  if (incident_command) return portico::app::run_incident_command(*loaded.config, incident, std::cout, std::cerr);
  if (openapi) {
    try {
      return portico::app::print_openapi(*loaded.config, std::cout);
    } catch (const std::exception& e) {
      std::cerr << "portico: " << e.what() << "\n";
      return 1;
    }
  }
  if (check) {
    std::cout << config_path << ": OK (" << loaded.config->clusters.size() << " cluster(s))\n";
    return 0;
  }
  try {
    return portico::app::run_gateway(*loaded.config);
  } catch (const std::exception& e) {
    std::cerr << "portico: " << e.what() << "\n";
    return 1;
  }
}
