#pragma once
// Rendered public replies, reused while nothing they depend on changed: the model is immutable
// and the status book's generation grows with every change, so an entry made at generation G
// is served only while the book is at G. Bounded in bytes (a client varying its query strings
// cannot pin memory): a shard that would outgrow its share starts again empty.
// Thread-safety: find() and put() from any thread (one mutex per shard).

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/time.hpp"

namespace portico::api::iri {

struct CachedReply {
  std::uint64_t generation = 0;
  std::string body;
  core::Millis last_modified = 0;
  std::string last_modified_header;  // its HTTP date, formatted once
};

class ResponseCache {
 public:
  static constexpr std::size_t kBytesPerShard = 2 * 1024 * 1024;  // 32 MiB in all

  std::shared_ptr<const CachedReply> find(const std::string& key, std::uint64_t generation) const {
    auto& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    auto it = shard.entries.find(key);
    if (it == shard.entries.end() || it->second->generation != generation) return nullptr;
    return it->second;
  }

  void put(const std::string& key, std::shared_ptr<const CachedReply> reply) const {
    auto& shard = shard_for(key);
    const std::size_t size = key.size() + reply->body.size();
    if (size > kBytesPerShard / 4) return;  // too big to be worth keeping
    std::lock_guard lock(shard.mutex);
    if (shard.bytes + size > kBytesPerShard) {
      shard.entries.clear();
      shard.bytes = 0;
    }
    auto& slot = shard.entries[key];
    if (slot) shard.bytes -= key.size() + slot->body.size();
    slot = std::move(reply);
    shard.bytes += size;
  }

 private:
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<const CachedReply>> entries;
    std::size_t bytes = 0;
  };
  Shard& shard_for(const std::string& key) const { return shards_[std::hash<std::string>{}(key) % shards_.size()]; }
  mutable std::array<Shard, 16> shards_;
};

}  // namespace portico::api::iri
