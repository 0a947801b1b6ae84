#include "core/names.hpp"

namespace portico::core {

bool valid_unix_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 32) return false;
  auto first = static_cast<unsigned char>(name.front());
  if (!((first >= 'a' && first <= 'z') || first == '_')) return false;
  for (unsigned char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

}  // namespace portico::core
