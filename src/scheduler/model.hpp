#pragma once
// What the status API reports about a cluster's scheduler, as plain values. The API layers map
// these to their wire formats; nothing here knows JSON. A field is std::optional when the
// scheduler may leave it out or print it as unknown (N/A, (null)).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace portico::scheduler {

struct Node {
  std::string name;
  std::vector<std::string> states;          // base state first, then flags: {"IDLE", "DRAIN"}
  std::vector<std::string> partitions;
  std::int64_t cpus = 0;
  std::optional<std::int64_t> cores;        // per socket
  std::optional<std::int64_t> sockets;
  std::optional<std::int64_t> threads;      // per core
  std::optional<double> cpu_load;
  std::optional<std::int64_t> free_memory;  // MiB
  std::optional<std::int64_t> alloc_memory; // MiB
  std::optional<std::int64_t> alloc_cpus;
  std::optional<std::int64_t> idle_cpus;
  std::vector<std::string> features;        // active features; empty when the node has none
  std::optional<std::string> address;
  std::optional<std::string> hostname;
  std::optional<std::int64_t> weight;
};

struct Partition {
  std::string name;
  std::optional<std::int64_t> cpus;
  std::optional<std::int64_t> total_nodes;
  std::string state;  // UP, DOWN, DRAIN, INACTIVE
};

struct Reservation {
  std::string name;
  std::string node_list;                  // Slurm hostlist expression, e.g. "nid[001-004]"
  std::optional<std::int64_t> start_time; // seconds since the epoch
  std::optional<std::int64_t> end_time;
  std::optional<std::string> features;
  std::optional<std::string> state;       // ACTIVE, INACTIVE
};

// A Unix user or group as `id` reports it; the name is missing for an id with no entry in the
// cluster's user or group database.
struct PosixIdentity {
  std::uint32_t id = 0;
  std::optional<std::string> name;
};

struct UserInfo {
  PosixIdentity user;
  PosixIdentity group;                // primary group
  std::vector<PosixIdentity> groups;  // every group, the primary one included
};

// An account the user may charge jobs to.
struct Account {
  std::string name;
  bool is_default = false;
};

// The outcome of asking the scheduler whether it answers.
struct Health {
  bool healthy = false;
  std::chrono::microseconds latency{0};
  std::string message;
};

}  // namespace portico::scheduler
