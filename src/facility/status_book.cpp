#include "facility/status_book.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/error.hpp"
#include "facility/uuid.hpp"
#include "store/store.hpp"

namespace portico::facility {

namespace {

using core::ErrorKind;
using core::Failure;
using core::Millis;

int severity(Status s) {
  switch (s) {
    case Status::up: return 0;
    case Status::unknown: return 1;
    case Status::degraded: return 2;
    case Status::down: return 3;
  }
  return 1;
}

bool failing(Status s) { return s == Status::down || s == Status::degraded; }

store::IncidentRecord to_record(const Incident& i) {
  return {i.id, i.name, i.description, to_string(i.status), to_string(i.type), to_string(i.resolution),
          i.start, i.end, i.last_modified, i.resource_ids};
}

Incident from_record(const store::IncidentRecord& r) {
  Incident i;
  i.id = r.id;
  i.name = r.name;
  i.description = r.description;
  i.status = parse_status(r.status).value_or(Status::unknown);
  i.type = parse_incident_type(r.type).value_or(IncidentType::unplanned);
  i.resolution = parse_resolution(r.resolution).value_or(Resolution::unresolved);
  i.start = r.start;
  i.end = r.end;
  i.last_modified = r.last_modified;
  i.resource_ids = r.resource_ids;
  return i;
}

Event from_record(const store::EventRecord& r) {
  return {r.id, r.name, r.description, parse_status(r.status).value_or(Status::unknown), r.resource_id,
          r.incident_id, r.occurred_at, r.last_modified};
}

Incident* find_incident(Snapshot& s, std::string_view id) {
  for (auto& i : s.incidents)
    if (i.id == id) return &i;
  return nullptr;
}

void index_events(Snapshot& s) {
  s.last_event.clear();
  for (auto& i : s.incidents) i.event_ids.clear();
  for (std::size_t k = 0; k < s.events.size(); ++k) {
    const auto& e = s.events[k];
    s.last_event[e.resource_id] = k;
    if (!e.incident_id.empty())
      if (auto* i = find_incident(s, e.incident_id)) i->event_ids.push_back(e.id);
  }
}

void sort_incidents(Snapshot& s) {
  std::stable_sort(s.incidents.begin(), s.incidents.end(), [](const Incident& a, const Incident& b) {
    return a.start != b.start ? a.start < b.start : a.id < b.id;
  });
}

}  // namespace

const Incident* Snapshot::incident(std::string_view id) const {
  for (const auto& i : incidents)
    if (i.id == id) return &i;
  return nullptr;
}

const Event* Snapshot::event(std::string_view id) const {
  for (const auto& e : events)
    if (e.id == id) return &e;
  return nullptr;
}

Status Snapshot::current_status(std::string_view resource_id) const {
  auto it = last_event.find(std::string(resource_id));
  return it == last_event.end() ? Status::unknown : events[it->second].status;
}

Millis Snapshot::last_change(std::string_view resource_id) const {
  auto it = last_event.find(std::string(resource_id));
  return it == last_event.end() ? 0 : events[it->second].occurred_at;
}

StatusBook::StatusBook(const Model& model, store::Store& store, std::chrono::seconds retention)
    : model_(model), store_(store), retention_(retention) {
  std::lock_guard lock(write_mutex_);
  load();
  publish();
}

std::shared_ptr<const Snapshot> StatusBook::snapshot() const {
  std::lock_guard lock(read_mutex_);
  return published_;
}

void StatusBook::load() {
  store_revision_ = store_.revision();
  auto generation = working_.generation;
  working_ = Snapshot{};
  working_.generation = generation + 1;
  for (const auto& r : store_.incidents()) working_.incidents.push_back(from_record(r));
  auto since = core::now_millis() - std::chrono::duration_cast<std::chrono::milliseconds>(retention_).count();
  for (const auto& r : store_.events(since)) working_.events.push_back(from_record(r));
  for (const auto& e : working_.events) last_event_at_ = std::max(last_event_at_, e.occurred_at);
  sort_incidents(working_);
  index_events(working_);
}

void StatusBook::publish() {
  ++working_.generation;
  auto copy = std::make_shared<const Snapshot>(working_);
  std::lock_guard lock(read_mutex_);
  published_ = std::move(copy);
}

// Each write of this book bumps the store's revision by one: any other difference is another
// process's write, which tick() reloads.
void StatusBook::save(const Incident& incident) {
  store_.put_incident(to_record(incident));
  ++store_revision_;
}

void StatusBook::add_event(Snapshot& s, const Resource& r, Status status, const std::string& message,
                           const std::string& incident_id, Millis now) {
  Event e;
  e.id = random_uuid();
  e.name = r.name + " is " + to_string(status);
  e.description = message;
  e.status = status;
  e.resource_id = r.id;
  e.incident_id = incident_id;
  e.occurred_at = std::max(now, last_event_at_ + 1);
  last_event_at_ = e.occurred_at;
  e.last_modified = e.occurred_at;
  store_.add_event({e.id, e.name, e.description, to_string(e.status), e.resource_id, e.incident_id, e.occurred_at,
                    e.last_modified});
  ++store_revision_;
  if (!incident_id.empty())
    if (auto* i = find_incident(s, incident_id)) i->last_modified = now;
  // In the store's order (occurred_at, id), so a reload reads the same lists.
  auto later = [](const Event& a, const Event& b) {
    return a.occurred_at != b.occurred_at ? a.occurred_at < b.occurred_at : a.id < b.id;
  };
  if (s.events.empty() || later(s.events.back(), e)) {
    s.last_event[e.resource_id] = s.events.size();
    if (!incident_id.empty())
      if (auto* i = find_incident(s, incident_id)) i->event_ids.push_back(e.id);
    s.events.push_back(std::move(e));
  } else {
    s.events.insert(std::upper_bound(s.events.begin(), s.events.end(), e, later), std::move(e));
    index_events(s);
  }
}

bool StatusBook::under_maintenance(const Snapshot& s, const std::string& resource_id, Millis now) const {
  for (const auto& i : s.incidents)
    if (i.type == IncidentType::planned && i.resolution == Resolution::unresolved && i.start <= now &&
        std::count(i.resource_ids.begin(), i.resource_ids.end(), resource_id))
      return true;
  return false;
}

void StatusBook::observe(const std::vector<Observation>& observations, Millis now) {
  std::lock_guard lock(write_mutex_);
  bool changed = false;
  for (const auto& o : observations) {
    const auto* r = model_.resource(o.resource_id);
    if (!r) continue;
    probed_[o.resource_id] = o.status;
    if (under_maintenance(working_, o.resource_id, now)) continue;  // the declared status stands
    bool has_event = working_.last_event.count(o.resource_id) > 0;
    if (has_event && working_.current_status(o.resource_id) == o.status) continue;
    changed = true;

    Incident* open = nullptr;
    for (auto& i : working_.incidents)
      if (i.type == IncidentType::unplanned && i.resolution == Resolution::unresolved) open = &i;
    std::string incident_id;
    if (failing(o.status)) {
      if (!open) {
        Incident i;
        i.id = random_uuid();
        i.name = r->name + " is " + to_string(o.status);
        i.description = o.message;
        i.status = o.status;
        i.type = IncidentType::unplanned;
        i.resolution = Resolution::unresolved;
        i.start = now;
        i.last_modified = now;
        auto id = i.id;
        working_.incidents.push_back(std::move(i));
        sort_incidents(working_);
        open = find_incident(working_, id);
      }
      if (!std::count(open->resource_ids.begin(), open->resource_ids.end(), r->id)) open->resource_ids.push_back(r->id);
      incident_id = open->id;
    } else if (open && std::count(open->resource_ids.begin(), open->resource_ids.end(), r->id)) {
      incident_id = open->id;
    }
    add_event(working_, *r, o.status, o.message, incident_id, now);
    if (!incident_id.empty()) {
      // The incident's status is its worst resource's; once all are up it is over.
      Status worst = Status::up;
      for (const auto& id : open->resource_ids)
        if (severity(working_.current_status(id)) > severity(worst)) worst = working_.current_status(id);
      open->status = worst;
      if (worst == Status::up) {
        open->resolution = Resolution::completed;
        open->end = now;
      }
      open->last_modified = now;
      save(*open);
    }
  }
  if (changed) publish();
}

Status StatusBook::status_after_window(const std::string& resource_id, const std::string& incident_id) const {
  if (auto it = probed_.find(resource_id); it != probed_.end()) return it->second;
  // Not probed by this process (the `portico incident` command): the status before the window.
  for (auto e = working_.events.rbegin(); e != working_.events.rend(); ++e)
    if (e->resource_id == resource_id && e->incident_id != incident_id) return e->status;
  return Status::unknown;
}

void StatusBook::tick(Millis now) {
  std::lock_guard lock(write_mutex_);
  bool changed = false;
  if (store_.revision() != store_revision_) {
    load();  // another process (the `portico incident` command) wrote to the store
    changed = true;
  }
  for (auto& i : working_.incidents) {
    if (i.type != IncidentType::planned) continue;
    if (i.resolution == Resolution::pending && now >= i.start) {
      i.resolution = Resolution::unresolved;
      i.last_modified = now;
      for (const auto& id : i.resource_ids)
        if (const auto* r = model_.resource(id))
          add_event(working_, *r, i.status, "planned: " + (i.name.empty() ? i.description : i.name), i.id, now);
      save(i);
      changed = true;
    }
    if (i.resolution == Resolution::unresolved && i.end && now >= *i.end) {
      i.resolution = Resolution::completed;
      i.last_modified = now;
      auto incident_id = i.id;
      auto resources = i.resource_ids;
      save(i);
      for (const auto& id : resources)
        if (const auto* r = model_.resource(id))
          add_event(working_, *r, status_after_window(id, incident_id), "the planned window ended", incident_id, now);
      changed = true;
    }
  }
  const Millis retention = std::chrono::duration_cast<std::chrono::milliseconds>(retention_).count();
  if (now - last_prune_ >= 60'000) {
    last_prune_ = now;
    auto cutoff = now - retention;
    if (!working_.events.empty() && working_.events.front().occurred_at < cutoff) {
      auto removed = store_.remove_events_before(cutoff);
      if (removed) ++store_revision_;
      spdlog::info("facility: {} event(s) older than the retention forgotten", removed);
      std::erase_if(working_.events, [&](const Event& e) { return e.occurred_at < cutoff; });
      index_events(working_);
      changed = true;
    }
  }
  if (changed) publish();
}

Incident StatusBook::declare(PlannedIncident p, Millis now, bool run_window) {
  std::vector<core::FieldError> errors;
  if (p.name.empty()) errors.push_back({"body", "name", "must not be empty"});
  if (p.status != Status::down && p.status != Status::degraded && p.status != Status::unknown)
    errors.push_back({"body", "status", "a planned incident makes resources down, degraded or unknown"});
  if (p.end <= p.start) errors.push_back({"body", "end", "must be after start"});
  if (p.resource_ids.empty()) errors.push_back({"body", "resource_ids", "name at least one resource"});
  std::vector<std::string> ids;
  for (const auto& given : p.resource_ids) {
    const auto* r = model_.resource(given);
    if (!r) r = model_.resource_named(given);
    if (!r) errors.push_back({"body", "resource_ids", "no resource \"" + given + "\""});
    else if (!std::count(ids.begin(), ids.end(), r->id)) ids.push_back(r->id);
  }
  if (!errors.empty()) {
    std::string text;
    for (const auto& e : errors) text += (text.empty() ? "" : "; ") + e.name + ": " + e.message;
    throw Failure(ErrorKind::validation, text, {}, std::move(errors));
  }
  Incident i;
  i.id = random_uuid();
  i.name = std::move(p.name);
  i.description = std::move(p.description);
  i.status = p.status;
  i.type = IncidentType::planned;
  i.resolution = Resolution::pending;
  i.start = p.start;
  i.end = p.end;
  i.last_modified = now;
  i.resource_ids = std::move(ids);
  {
    std::lock_guard lock(write_mutex_);
    save(i);
    working_.incidents.push_back(i);
    sort_incidents(working_);
    publish();
  }
  if (run_window) tick(now);  // a window that has begun starts at once
  auto s = snapshot();
  return *s->incident(i.id);
}

Incident StatusBook::cancel(const std::string& id, Millis now) {
  {
    std::lock_guard lock(write_mutex_);
    auto* i = find_incident(working_, id);
    if (!i || i->type != IncidentType::planned) throw Failure(ErrorKind::not_found, "no planned incident " + id);
    if (i->resolution != Resolution::pending && i->resolution != Resolution::unresolved)
      throw Failure(ErrorKind::conflict, "incident " + id + " is already " + to_string(i->resolution));
    bool begun = i->resolution == Resolution::unresolved;
    i->resolution = Resolution::cancelled;
    i->last_modified = now;
    if (begun) i->end = now;
    auto copy = *i;
    save(copy);
    if (begun)
      for (const auto& rid : copy.resource_ids)
        if (const auto* r = model_.resource(rid))
          add_event(working_, *r, status_after_window(rid, copy.id), "the planned window was cancelled", copy.id, now);
    publish();
  }
  return *snapshot()->incident(id);
}

}  // namespace portico::facility
