// The storage commands' output (cluster/storage.hpp): a file system's quota command
// ("used limit used limit") and the storage probe ("home <dir>", then "<drwx> <path>" lines).
// Input: one byte choosing the reader, then the output.
#include <cstdint>
#include <string>
#include <string_view>

#include "cluster/storage.hpp"
#include "fuzz_support.hpp"

namespace cl = portico::cluster;
using portico::core::ErrorKind;
using portico::fuzz::refused_or_ran;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 2 == 0) {
    cl::Quota q;
    if (!refused_or_ran(ErrorKind::internal, [&] { q = cl::parse_quota(text); })) return 0;
    // Printed back in the documented form, the quota reads the same.
    const auto again = cl::parse_quota(std::to_string(q.used_bytes) + " " + std::to_string(q.limit_bytes) + " " +
                                       std::to_string(q.used_inodes) + " " + std::to_string(q.limit_inodes) + "\n");
    FUZZ_CHECK(again.used_bytes == q.used_bytes && again.limit_bytes == q.limit_bytes &&
               again.used_inodes == q.used_inodes && again.limit_inodes == q.limit_inodes);
    return 0;
  }
  cl::StorageProbe probe;
  if (!refused_or_ran(ErrorKind::internal, [&] { probe = cl::parse_storage_probe(text); })) return 0;
  // The locations of a cluster's file systems from whatever the probe said.
  portico::config::Cluster cluster;
  cluster.name = "hpc";
  cluster.file_systems = {{"/home", "users"}, {"/scratch", "scratch"}, {"/project", "project"}};
  for (const auto& l : cl::storage_locations(cluster, "alice", {"climate"}, probe)) {
    FUZZ_CHECK(!l.logical_name.empty());
    FUZZ_CHECK(!l.path.empty());
  }
  return 0;
}
