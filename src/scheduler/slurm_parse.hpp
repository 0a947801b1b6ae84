#pragma once
// Pure parsers for what Slurm's command-line tools print (checked against Slurm 22.05; golden
// files in testdata/). Every parser ignores keys it does not know and throws
// core::Failure(internal) quoting a short excerpt when the text is not what the tool prints.
//
// Why the key=value text of `scontrol --oneliner` and not JSON: Slurm 22.05's scontrol has no
// --json (it came in 23.02), and `sinfo --json` reports nodes only, in a schema tied to the
// OpenAPI plugin version (v0.0.38 here, reshaped in 23.02 and again in 24.05), whereas the
// --oneliner format has kept its keys across releases.

#include "scheduler/model.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace portico::scheduler {

// One Key=Value field of a `scontrol show <entity> --oneliner` record.
struct ScontrolField {
  std::string key;
  std::string value;
};

// Splits one --oneliner record into its fields, in printed order. A field starts at a word
// "Key=..." whose key is capitalised (Slurm prints every key so: NodeName, CPUTot, MCS_label);
// any other word continues the value before it, with its spacing kept, so free-text values
// survive: "OS=Linux 6.1.0 #1 SMP", "TRES=cpu=2,mem=8000M". A node's Reason runs up to the
// "[user@time]" stamp scontrol appends, whatever it holds ("Reason=bad sda, Ticket=42 [root@...]"
// gives "bad sda, Ticket=42"); the stamp is dropped. Keys may repeat when free text holds
// key-like words; look values up with scontrol_value(), which takes the first.
// Throws core::Failure(internal) when the line does not start with a key.
std::vector<ScontrolField> split_scontrol_record(std::string_view line);

// The value of the first field named key, or nullptr. Slurm prints the fields Portico reads
// before the free-text ones (Reason, Comment, Extra), so the first one is the real one.
const std::string* scontrol_value(const std::vector<ScontrolField>& fields, std::string_view key);

// `scontrol --all --oneliner show node`. idle_cpus is derived: CPUEfctv (CPUTot before 22.05)
// minus CPUAlloc, since scontrol does not print it and specialised cores are never allocated.
// features are the active ones (ActiveFeatures), which may be fewer than AvailableFeatures.
std::vector<Node> parse_scontrol_nodes(std::string_view text);

// `scontrol --all --oneliner show partition`. Hidden partitions (Hidden=YES) are left out, as
// FirecREST does; --all is still wanted because without it scontrol also drops partitions the
// user's groups may not use.
std::vector<Partition> parse_scontrol_partitions(std::string_view text);

// `scontrol --oneliner show reservation` run with SLURM_TIME_FORMAT=%s, so that times are
// epoch seconds and need no guess at the cluster's time zone. "No reservations in the system"
// is an empty list. A time in any other format is a Failure, not a guess.
std::vector<Reservation> parse_scontrol_reservations(std::string_view text);

// `sacctmgr --noheader --parsable2 show user name=<u> withassoc format=DefaultAccount,Account`:
// one "default|account" row per association (per cluster and partition). Accounts are
// returned once each, in the order first seen; empty output is an empty list.
std::vector<Account> parse_sacctmgr_user_accounts(std::string_view text);

// One controller as `scontrol ping` reports it: "Slurmctld(primary) at vm is UP".
struct ControllerPing {
  std::string mode;  // primary, backup, backup2, ...
  std::string host;
  bool up = false;
};

// `scontrol ping`. Lines that are not controller lines (the "RESTORE SLURMCTLD DAEMON" banner
// root gets) are skipped; text without any controller line is a Failure.
std::vector<ControllerPing> parse_scontrol_ping(std::string_view text);

// `scontrol --version` or `sinfo --version`: "slurm 23.11.4", "slurm-wlm 22.05.8" -> the
// version number.
std::string parse_slurm_version(std::string_view text);

}  // namespace portico::scheduler
