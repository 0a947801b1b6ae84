#pragma once
// Incidents and events, live from the health checker, kept in the store.
//
// Each observation of a resource's status that differs from its last event records a new,
// immutable event. The first down or degraded resource opens an unplanned incident; others that
// fail while it is open join it, and a resource flapping inside it only appends events; the
// incident is resolved (completed, with an end) once all its resources are up again. Operators
// declare planned incidents (a window, affected resources, the status they will have): while the
// window lasts the affected resources report the declared status, and events are written when it
// starts and when it ends (then with the status probes see).
//
// Readers take an immutable Snapshot; writers publish a new one. Knows no HTTP: bad declarations
// throw core::Failure (validation, not_found).
// Thread-safety: every method may be called from any thread.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "facility/model.hpp"

namespace portico::store {
class Store;
}

namespace portico::facility {

struct Incident {
  std::string id;
  std::string name;
  std::string description;
  Status status = Status::unknown;
  IncidentType type = IncidentType::unplanned;
  Resolution resolution = Resolution::unresolved;
  core::Millis start = 0;
  std::optional<core::Millis> end;
  core::Millis last_modified = 0;
  std::vector<std::string> resource_ids;
  std::vector<std::string> event_ids;  // oldest first
};

struct Event {
  std::string id;
  std::string name;
  std::string description;
  Status status = Status::unknown;
  std::string resource_id;
  std::string incident_id;  // "" for none
  core::Millis occurred_at = 0;
  core::Millis last_modified = 0;
};

struct Snapshot {
  std::vector<Incident> incidents;  // by start, then id
  std::vector<Event> events;        // by occurred_at, oldest first
  // Per resource: its last event (the resource's current status and last change).
  std::map<std::string, std::size_t> last_event;  // resource id -> index in events
  std::uint64_t generation = 0;  // grows with every published change

  const Incident* incident(std::string_view id) const;
  const Event* event(std::string_view id) const;
  // unknown until the resource has an event.
  Status current_status(std::string_view resource_id) const;
  // The time of the resource's last event, 0 without one.
  core::Millis last_change(std::string_view resource_id) const;
};

struct Observation {
  std::string resource_id;
  Status status = Status::unknown;
  std::string message;  // what the probe said
};

// What an operator declares.
struct PlannedIncident {
  std::string name;
  std::string description;
  Status status = Status::down;  // what the resources report during the window
  core::Millis start = 0;
  core::Millis end = 0;
  std::vector<std::string> resource_ids;  // ids or names of resources
};

class StatusBook {
 public:
  // Loads what the store holds. REQUIRES: model outlives the book.
  StatusBook(const Model& model, store::Store& store, std::chrono::seconds retention);

  std::shared_ptr<const Snapshot> snapshot() const;

  void observe(const std::vector<Observation>& observations, core::Millis now);

  // Starts and ends planned windows, forgets events past retention, and reloads when another
  // process changed the store. Called about once a second.
  void tick(core::Millis now);

  // Throws core::Failure(validation) for an unknown resource, an end not after the start, an
  // empty name or a status that is not down, degraded or unknown.
  // run_window: start a window that has begun now (the gateway); false leaves it to the next
  // tick of whichever book watches the store (the `portico incident` command).
  Incident declare(PlannedIncident planned, core::Millis now, bool run_window = true);
  // A planned incident not yet over becomes cancelled (its window ends now if it had begun).
  // Throws core::Failure(not_found) for an unknown or unplanned incident, (conflict) for one over.
  Incident cancel(const std::string& id, core::Millis now);

 private:
  void load();
  void publish();
  void add_event(Snapshot& s, const Resource& r, Status status, const std::string& message,
                 const std::string& incident_id, core::Millis now);
  void save(const Incident& incident);
  Status status_after_window(const std::string& resource_id, const std::string& incident_id) const;
  bool under_maintenance(const Snapshot& s, const std::string& resource_id, core::Millis now) const;

  const Model& model_;
  store::Store& store_;
  std::chrono::seconds retention_;
  mutable std::mutex write_mutex_;  // one writer at a time
  Snapshot working_;                // the writer's copy, guarded by write_mutex_
  std::map<std::string, Status> probed_;  // the last status probes saw, per resource
  std::int64_t store_revision_ = 0;
  core::Millis last_prune_ = 0;
  // The latest event's time: each new event is at least a millisecond later, so events written
  // in one round (a past window's start and end) keep the order they happened in.
  core::Millis last_event_at_ = 0;
  mutable std::mutex read_mutex_;
  std::shared_ptr<const Snapshot> published_;
};

}  // namespace portico::facility
