#include "api/iri/job_spec.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace portico::api::iri {

namespace json = boost::json;
namespace psij = scheduler::psij;

namespace {

class SpecReader {
 public:
  explicit SpecReader(Version version) : v2_(version == Version::v2) {}

  void problem(std::string field, std::string message) { fields_.add(field, std::move(message)); }
  void raise() { fields_.raise(); }

  // Refuses members not in `known` (v2 objects may carry "attributes" of their own).
  void only(const json::object& o, std::initializer_list<std::string_view> known, const std::string& at) {
    for (const auto& [key, _] : o) {
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      if (v2_ && key == "attributes" && !at.empty()) continue;
      problem(at + std::string(key).substr(0, 64), "is not a field of this object");
    }
  }

  std::optional<std::string> text(const json::object& o, std::string_view key, const std::string& at) {
    auto* v = o.if_contains(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string()) {
      problem(at + std::string(key), "must be a string");
      return std::nullopt;
    }
    std::string s(v->as_string());
    if (s.empty()) problem(at + std::string(key), "must not be empty");
    return s;
  }

  std::optional<std::int64_t> integer(const json::object& o, std::string_view key, const std::string& at) {
    auto* v = o.if_contains(key);
    if (!v || v->is_null()) return std::nullopt;
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64()) {
      problem(at + std::string(key), "is too large");
      return std::nullopt;
    }
    problem(at + std::string(key), "must be an integer");
    return std::nullopt;
  }

  std::optional<bool> boolean(const json::object& o, std::string_view key, const std::string& at) {
    auto* v = o.if_contains(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_bool()) {
      problem(at + std::string(key), "must be true or false");
      return std::nullopt;
    }
    return v->as_bool();
  }

  const json::object* object(const json::object& o, std::string_view key, const std::string& at) {
    auto* v = o.if_contains(key);
    if (!v || v->is_null()) return nullptr;
    if (!v->is_object()) {
      problem(at + std::string(key), "must be an object");
      return nullptr;
    }
    return &v->as_object();
  }

  std::vector<std::pair<std::string, std::string>> string_map(const json::object& o, std::string_view key,
                                                              const std::string& at) {
    std::vector<std::pair<std::string, std::string>> out;
    const auto* m = object(o, key, at);
    if (!m) return out;
    for (const auto& [name, value] : *m) {
      if (!value.is_string()) problem(at + std::string(key) + "." + std::string(name).substr(0, 64), "must be a string");
      else out.emplace_back(std::string(name), std::string(value.as_string()));
    }
    return out;
  }

  psij::JobSpec read(const json::value& body) {
    psij::JobSpec spec;
    if (!body.is_object()) {
      problem("body", "must be a JobSpec object");
      raise();
    }
    const auto& o = body.as_object();
    only(o, {"executable", "container", "arguments", "directory", "name", "inherit_environment", "environment",
             "stdin_path", "stdout_path", "stderr_path", "resources", "attributes", "pre_launch", "post_launch", "launcher"},
         "");
    spec.executable = text(o, "executable", "");
    if (auto* a = o.if_contains("arguments"); a && !a->is_null()) {
      if (!a->is_array()) problem("arguments", "must be an array of strings");
      else
        for (std::size_t i = 0; i < a->as_array().size(); ++i) {
          const auto& w = a->as_array()[i];
          if (!w.is_string()) problem("arguments." + std::to_string(i), "must be a string");
          else spec.arguments.emplace_back(w.as_string());
        }
    }
    spec.directory = text(o, "directory", "");
    spec.name = text(o, "name", "");
    spec.inherit_environment = boolean(o, "inherit_environment", "").value_or(true);
    spec.environment = string_map(o, "environment", "");
    spec.stdin_path = text(o, "stdin_path", "");
    spec.stdout_path = text(o, "stdout_path", "");
    spec.stderr_path = text(o, "stderr_path", "");
    spec.pre_launch = text(o, "pre_launch", "");
    spec.post_launch = text(o, "post_launch", "");
    spec.launcher = text(o, "launcher", "");
    if (const auto* r = object(o, "resources", "")) {
      const std::string at = "resources.";
      only(*r, {"node_count", "process_count", "processes_per_node", "cpu_cores_per_process", "gpu_cores_per_process",
                "exclusive_node_use", "memory"},
           at);
      auto& res = spec.resources;
      res.node_count = integer(*r, "node_count", at);
      res.process_count = integer(*r, "process_count", at);
      res.processes_per_node = integer(*r, "processes_per_node", at);
      res.cpu_cores_per_process = integer(*r, "cpu_cores_per_process", at);
      res.gpu_cores_per_process = integer(*r, "gpu_cores_per_process", at);
      res.memory = integer(*r, "memory", at);
      res.exclusive_node_use = boolean(*r, "exclusive_node_use", at).value_or(true);
    }
    if (const auto* a = object(o, "attributes", "")) {
      const std::string at = "attributes.";
      only(*a, {"duration", "queue_name", "account", "reservation_id", "custom_attributes"}, at);
      auto& attr = spec.attributes;
      attr.duration = integer(*a, "duration", at);
      attr.queue_name = text(*a, "queue_name", at);
      attr.account = text(*a, "account", at);
      attr.reservation_id = text(*a, "reservation_id", at);
      attr.custom_attributes = string_map(*a, "custom_attributes", at);
    }
    if (const auto* c = object(o, "container", "")) {
      const std::string at = "container.";
      only(*c, {"image", "volume_mounts"}, at);
      psij::Container container;
      auto image = text(*c, "image", at);
      if (!image) problem("container.image", "is required");
      container.image = image.value_or("");
      if (auto* m = c->if_contains("volume_mounts"); m && !m->is_null()) {
        if (!m->is_array()) problem("container.volume_mounts", "must be an array");
        else
          for (std::size_t i = 0; i < m->as_array().size(); ++i) {
            const std::string mat = "container.volume_mounts." + std::to_string(i) + ".";
            const auto& item = m->as_array()[i];
            if (!item.is_object()) {
              problem(mat.substr(0, mat.size() - 1), "must be an object");
              continue;
            }
            only(item.as_object(), {"source", "target", "read_only"}, mat);
            psij::VolumeMount mount;
            auto source = text(item.as_object(), "source", mat);
            auto target = text(item.as_object(), "target", mat);
            if (!source) problem(mat + "source", "is required");
            if (!target) problem(mat + "target", "is required");
            mount.source = source.value_or("");
            mount.target = target.value_or("");
            mount.read_only = boolean(item.as_object(), "read_only", mat).value_or(true);
            container.volume_mounts.push_back(std::move(mount));
          }
      }
      spec.container = std::move(container);
    }
    raise();
    return spec;
  }

 private:
  bool v2_;
  core::FieldErrors fields_{"body"};
};

}  // namespace

psij::JobSpec read_job_spec(const json::value& body, Version version) {
  SpecReader reader(version);
  return reader.read(body);
}

}  // namespace portico::api::iri
