#include "http/request_ids.hpp"

#include "core/ascii.hpp"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <atomic>
#include <cstdint>

namespace portico::http {

std::string new_request_id() {
  // Unique, not secret: a random per-process prefix and a counter. (RAND_bytes per request
  // showed up as a fifth of the CPU time of a small authenticated request.)
  static const std::uint64_t prefix = [] {
    std::uint64_t p = 0;
    RAND_bytes(reinterpret_cast<unsigned char*>(&p), sizeof p);
    return p;
  }();
  static std::atomic<std::uint64_t> counter{0};
  return fmt::format("{:016x}{:016x}", prefix, counter.fetch_add(1, std::memory_order_relaxed));
}

std::string sane_request_id(std::string_view value) {
  if (value.empty() || value.size() > 128) return {};
  for (unsigned char c : value)
    if (!(core::ascii_alnum(c) || c == '-' || c == '_' || c == '.' || c == ':')) return {};
  return std::string(value);
}

std::string trace_id_from_traceparent(std::string_view v) {
  auto hex = [](std::string_view s) {
    for (unsigned char c : s)
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
  };
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return {};
  auto version = v.substr(0, 2), trace = v.substr(3, 32), parent = v.substr(36, 16);
  if (!hex(version) || version == "ff" || !hex(trace) || !hex(parent)) return {};
  if (trace == std::string(32, '0') || parent == std::string(16, '0')) return {};
  return std::string(trace);
}

}  // namespace portico::http
