#include "scheduler/slurm_parse.hpp"

#include "core/ascii.hpp"
#include "core/error.hpp"
#include "scheduler/command_output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <utility>

namespace portico::scheduler {

namespace {

using core::ErrorKind;
using core::Failure;

Failure malformed(std::string_view what, std::string_view text) {
  return Failure(ErrorKind::internal, fmt::format("unexpected {} output: \"{}\"", what, excerpt(text)));
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_blank(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (is_blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = trim(text.substr(0, end));
    if (!line.empty()) lines.push_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> parts;
  while (!s.empty()) {
    auto end = s.find(sep);
    auto part = trim(s.substr(0, end));
    if (!part.empty()) parts.emplace_back(part);
    if (end == std::string_view::npos) break;
    s.remove_prefix(end + 1);
  }
  return parts;
}

// Length of the key when word starts "Key=", else npos.
std::size_t key_length(std::string_view word) {
  if (word.empty() || word[0] < 'A' || word[0] > 'Z') return std::string_view::npos;
  std::size_t i = 1;
  while (i < word.size() && (core::ascii_alnum(static_cast<unsigned char>(word[i])) || word[i] == '_')) ++i;
  return i < word.size() && word[i] == '=' ? i : std::string_view::npos;
}

// The "[root@2026-11-24T18:45:00]" stamp scontrol prints after a node's Reason.
bool is_reason_stamp(std::string_view word) {
  return word.size() >= 3 && word.front() == '[' && word.back() == ']' &&
         word.find('@') != std::string_view::npos;
}

// Slurm's ways of printing "no value".
bool is_unset(std::string_view v) {
  return v.empty() || v == "N/A" || v == "n/a" || v == "(null)" || v == "None" || v == "NONE" ||
         v == "Unknown";
}

std::optional<std::string> text_value(const std::vector<ScontrolField>& fields, std::string_view key) {
  const std::string* v = scontrol_value(fields, key);
  if (!v || is_unset(*v)) return std::nullopt;
  return *v;
}

const std::string& required(const std::vector<ScontrolField>& fields, std::string_view key,
                            std::string_view what, std::string_view line) {
  const std::string* v = scontrol_value(fields, key);
  if (!v) throw malformed(what, fmt::format("no {}= in {}", key, line));
  return *v;
}

std::optional<std::int64_t> int_value(const std::vector<ScontrolField>& fields, std::string_view key,
                                      std::string_view what) {
  const std::string* v = scontrol_value(fields, key);
  if (!v || is_unset(*v)) return std::nullopt;
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc{} || end != v->data() + v->size()) throw malformed(what, fmt::format("{}={}", key, *v));
  return n;
}

std::optional<double> double_value(const std::vector<ScontrolField>& fields, std::string_view key,
                                   std::string_view what) {
  const std::string* v = scontrol_value(fields, key);
  if (!v || is_unset(*v)) return std::nullopt;
  double d = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), d);
  if (ec != std::errc{} || end != v->data() + v->size()) throw malformed(what, fmt::format("{}={}", key, *v));
  return d;
}

// The records of an `scontrol --oneliner show <entity>` answer, one a line, each starting with
// "first_key=". scontrol answers "No <entities> in the system" when there are none.
std::vector<std::vector<ScontrolField>> scontrol_records(std::string_view text, std::string_view first_key,
                                                         std::string_view what) {
  auto lines = lines_of(text);
  if (lines.size() == 1 && lines[0].starts_with("No ") && lines[0].ends_with(" in the system")) return {};
  std::vector<std::vector<ScontrolField>> records;
  for (auto line : lines) {
    auto fields = split_scontrol_record(line);
    // The first value names the record (a node, a partition): without it there is no record.
    if (fields.front().key != first_key || fields.front().value.empty()) throw malformed(what, line);
    records.push_back(std::move(fields));
  }
  return records;
}

}  // namespace

std::vector<ScontrolField> split_scontrol_record(std::string_view line) {
  std::vector<std::pair<std::size_t, std::size_t>> words;  // [begin, end) in line
  for (std::size_t i = 0; i < line.size();) {
    while (i < line.size() && is_blank(line[i])) ++i;
    std::size_t begin = i;
    while (i < line.size() && !is_blank(line[i])) ++i;
    if (i > begin) words.emplace_back(begin, i);
  }

  std::vector<ScontrolField> fields;
  std::size_t value_end = 0;                           // where the current value ends in line
  std::size_t stamp = std::string_view::npos;          // index of the Reason's [user@time] word
  bool after_stamp = false;
  for (std::size_t w = 0; w < words.size(); ++w) {
    auto [begin, end] = words[w];
    std::string_view word = line.substr(begin, end - begin);
    if (w == stamp) {
      after_stamp = true;
      continue;
    }
    bool in_reason = stamp != std::string_view::npos && w < stamp;
    std::size_t k = in_reason ? std::string_view::npos : key_length(word);
    if (k != std::string_view::npos) {
      fields.push_back({std::string(word.substr(0, k)), std::string(word.substr(k + 1))});
      value_end = end;
      after_stamp = false;
      if (fields.back().key == "Reason") {
        stamp = std::string_view::npos;
        for (std::size_t s = w + 1; s < words.size(); ++s) {
          auto [sb, se] = words[s];
          if (is_reason_stamp(line.substr(sb, se - sb))) {
            stamp = s;
            break;
          }
        }
      }
    } else if (fields.empty()) {
      throw malformed("scontrol", line);
    } else if (after_stamp) {
      // The lines of a multi-line Reason follow its stamp.
      fields.back().value.append(" ").append(word);
      value_end = end;
      after_stamp = false;
    } else {
      fields.back().value.append(line.substr(value_end, end - value_end));
      value_end = end;
    }
  }
  return fields;
}

const std::string* scontrol_value(const std::vector<ScontrolField>& fields, std::string_view key) {
  auto it = std::find_if(fields.begin(), fields.end(), [&](const ScontrolField& f) { return f.key == key; });
  return it == fields.end() ? nullptr : &it->value;
}

std::vector<Node> parse_scontrol_nodes(std::string_view text) {
  constexpr std::string_view what = "scontrol show node";
  std::vector<Node> nodes;
  for (const auto& f : scontrol_records(text, "NodeName", what)) {
    Node n;
    n.name = f.front().value;
    n.states = split(required(f, "State", what, n.name), '+');
    if (n.states.empty()) throw malformed(what, "State= is empty for node " + n.name);
    if (auto p = text_value(f, "Partitions")) n.partitions = split(*p, ',');
    auto cpus = int_value(f, "CPUTot", what);
    if (!cpus) throw malformed(what, "no CPUTot= for node " + n.name);
    n.cpus = *cpus;
    n.cores = int_value(f, "CoresPerSocket", what);
    n.sockets = int_value(f, "Sockets", what);
    n.threads = int_value(f, "ThreadsPerCore", what);
    n.cpu_load = double_value(f, "CPULoad", what);
    n.free_memory = int_value(f, "FreeMem", what);
    n.alloc_memory = int_value(f, "AllocMem", what);
    n.alloc_cpus = int_value(f, "CPUAlloc", what);
    if (n.alloc_cpus) {
      std::int64_t usable = int_value(f, "CPUEfctv", what).value_or(n.cpus);
      n.idle_cpus = std::max<std::int64_t>(0, usable - *n.alloc_cpus);
    }
    // Active ones, when printed even as (null): a node-features plugin may have some
    // available features inactive. Older releases printed only Features=.
    const char* features_key = scontrol_value(f, "ActiveFeatures") ? "ActiveFeatures" : "Features";
    if (auto features = text_value(f, features_key)) n.features = split(*features, ',');
    n.address = text_value(f, "NodeAddr");
    n.hostname = text_value(f, "NodeHostName");
    n.weight = int_value(f, "Weight", what);
    nodes.push_back(std::move(n));
  }
  return nodes;
}

std::vector<Partition> parse_scontrol_partitions(std::string_view text) {
  constexpr std::string_view what = "scontrol show partition";
  std::vector<Partition> partitions;
  for (const auto& f : scontrol_records(text, "PartitionName", what)) {
    const std::string* hidden = scontrol_value(f, "Hidden");
    if (hidden && *hidden == "YES") continue;
    Partition p;
    p.name = f.front().value;
    p.state = required(f, "State", what, p.name);
    p.cpus = int_value(f, "TotalCPUs", what);
    p.total_nodes = int_value(f, "TotalNodes", what);
    partitions.push_back(std::move(p));
  }
  return partitions;
}

std::vector<Reservation> parse_scontrol_reservations(std::string_view text) {
  constexpr std::string_view what = "scontrol show reservation";
  auto epoch = [&](const std::vector<ScontrolField>& f, std::string_view key) -> std::optional<std::int64_t> {
    const std::string* v = scontrol_value(f, key);
    if (!v || is_unset(*v)) return std::nullopt;
    std::int64_t seconds = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), seconds);
    if (ec != std::errc{} || end != v->data() + v->size())
      throw Failure(ErrorKind::internal,
                    fmt::format("{} printed a time that is not epoch seconds (is SLURM_TIME_FORMAT=%s "
                                "overridden?): \"{}\"",
                                what, excerpt(fmt::format("{}={}", key, *v))));
    return seconds;
  };
  std::vector<Reservation> reservations;
  for (const auto& f : scontrol_records(text, "ReservationName", what)) {
    Reservation r;
    r.name = f.front().value;
    r.node_list = text_value(f, "Nodes").value_or("");
    r.start_time = epoch(f, "StartTime");
    r.end_time = epoch(f, "EndTime");
    r.features = text_value(f, "Features");
    r.state = text_value(f, "State");
    reservations.push_back(std::move(r));
  }
  return reservations;
}

std::vector<Account> parse_sacctmgr_user_accounts(std::string_view text) {
  std::vector<Account> accounts;
  for (auto line : lines_of(text)) {
    auto bar = line.find('|');
    if (bar == std::string_view::npos || line.find('|', bar + 1) != std::string_view::npos)
      throw malformed("sacctmgr show user", line);
    std::string_view default_account = line.substr(0, bar);
    std::string_view name = line.substr(bar + 1);
    // A user with no association at all still gets a row, with an empty account.
    if (name.empty()) continue;
    auto seen = std::find_if(accounts.begin(), accounts.end(), [&](const Account& a) { return a.name == name; });
    if (seen == accounts.end()) accounts.push_back({std::string(name), name == default_account});
  }
  return accounts;
}

std::vector<ControllerPing> parse_scontrol_ping(std::string_view text) {
  constexpr std::string_view prefix = "Slurmctld(";
  std::vector<ControllerPing> pings;
  for (auto line : lines_of(text)) {
    if (!line.starts_with(prefix)) continue;
    auto close = line.find(") at ", prefix.size());
    auto is = line.rfind(" is ");
    if (close == std::string_view::npos || is == std::string_view::npos || is < close + 5) continue;
    std::string_view state = line.substr(is + 4);
    if (state != "UP" && state != "DOWN") continue;
    pings.push_back({std::string(line.substr(prefix.size(), close - prefix.size())),
                     std::string(line.substr(close + 5, is - (close + 5))), state == "UP"});
  }
  if (pings.empty()) throw malformed("scontrol ping", text);
  return pings;
}

std::string parse_slurm_version(std::string_view text) {
  auto lines = lines_of(text);
  if (!lines.empty()) {
    auto words = split(lines.front(), ' ');
    if (words.size() == 2 && words[0].starts_with("slurm") &&
        std::isdigit(static_cast<unsigned char>(words[1].front())))
      return words[1];
  }
  throw malformed("slurm --version", text);
}

}  // namespace portico::scheduler
