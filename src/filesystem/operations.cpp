#include "filesystem/operations.hpp"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <utility>

#include "core/command.hpp"
#include "core/error.hpp"
#include "core/shell.hpp"
#include "filesystem/errors.hpp"
#include "filesystem/file_calls.hpp"

namespace portico::filesystem {

namespace {

std::vector<std::string> with_c_locale(std::initializer_list<std::string> argv) {
  std::vector<std::string> out{"env", "LC_ALL=C"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

// Runs argv; returns stdout, or throws the failure its outcome means.
// errors_on_stdout: the tool reports its failures on stdout (file -E), so they are read there.
Task<std::string> run_checked(core::CommandRunner& runner, std::vector<std::string> argv, std::string_view what,
                              bool errors_on_stdout = false) {
  core::Command cmd;
  cmd.argv = std::move(argv);
  auto result = co_await runner.run(std::move(cmd));
  if (errors_on_stdout && !result.ok() && result.err.empty()) result.err = result.out;
  std::string out = successful_output(result, what);
  co_return out;
}

std::vector<std::string> describe_command(const std::string& path) {
  LsOptions itself;
  itself.itself = true;
  return ls_command(path, itself);
}

LsEntry only_entry(std::string_view ls_output) {
  auto entries = parse_ls(ls_output);
  if (entries.size() != 1) throw core::Failure(core::ErrorKind::internal, "unexpected ls output for one path");
  return std::move(entries.front());
}

// Runs `action` and, if it succeeded, `ls -ld path` in the same remote command.
Task<LsEntry> act_and_describe(core::CommandRunner& runner, const std::vector<std::string>& action,
                               std::string_view what, const std::string& path) {
  auto argv = core::and_then(action, describe_command(path));
  auto out = co_await run_checked(runner, std::move(argv), what);
  co_return only_entry(out);
}

// The entry of what file calls made or changed: from file calls when they can tell it exactly,
// from `ls -ld` otherwise.
Task<LsEntry> describe_changed(core::CommandRunner& runner, core::RemoteFiles& files, const std::string& path) {
  auto entry = co_await file_calls::describe(files, path);
  if (entry) co_return std::move(*entry);
  auto argv = describe_command(path);
  auto out = co_await run_checked(runner, std::move(argv), "ls");
  co_return only_entry(out);
}

Task<void> run_archive(core::CommandRunner& runner, std::vector<std::string> argv, std::string_view what,
                       std::string stdin_data = {}) {
  core::Command cmd;
  cmd.argv = std::move(argv);
  cmd.stdin_data = std::move(stdin_data);
  auto result = co_await runner.run(std::move(cmd));
  if (!result.ok()) throw archive_failure(result, what);
}

}  // namespace

Task<std::vector<LsEntry>> ls(core::CommandRunner& runner, const std::string& path, const LsOptions& options) {
  auto argv = ls_command(path, options);
  auto out = co_await run_checked(runner, std::move(argv), "ls");
  auto entries = parse_ls(out);
  co_return entries;
}

Task<StatResult> stat(core::CommandRunner& runner, const std::string& path, bool dereference) {
  auto argv = stat_command(path, dereference);
  auto out = co_await run_checked(runner, std::move(argv), "stat");
  auto s = parse_stat(out);
  co_return s;
}

Task<std::string> checksum(core::CommandRunner& runner, const std::string& path) {
  auto argv = with_c_locale({"sha256sum", "--", path});
  auto out = co_await run_checked(runner, std::move(argv), "sha256sum");
  // "<hash>  <name>", or "\<hash>  <escaped name>" when the name needs escaping.
  std::string_view text = out;
  if (!text.empty() && text.front() == '\\') text.remove_prefix(1);
  auto hash = std::string(text.substr(0, text.find(' ')));
  bool ok = hash.size() == 64 &&
            std::all_of(hash.begin(), hash.end(), [](unsigned char ch) { return std::isxdigit(ch) != 0; });
  if (!ok) throw core::Failure(core::ErrorKind::internal, "unexpected sha256sum output");
  co_return hash;
}

Task<FilePart> head_tail(core::CommandRunner& runner, const std::string& path, const HeadTailRequest& request,
                         std::int64_t max_content) {
  if (request.count.unit == HeadTailCount::Unit::bytes) {
    if (auto files = co_await runner.files()) {
      file_calls::Record record(runner, request.head ? "head" : "tail");
      auto part = co_await file_calls::head_tail(*files, path, request, max_content);
      record.done(part.has_value());
      if (part) co_return std::move(*part);
    }
  }
  core::Command cmd;
  cmd.argv = head_tail_command(path, request, max_content);
  cmd.max_output = static_cast<std::size_t>(max_content) + 64;  // + tail's size line
  auto result = co_await runner.run(std::move(cmd));
  // Cut at the cap: the exit status is then SIGPIPE's, so look at the length first.
  bool cut = result.out_truncated || head_tail_cut(result.out, request, max_content);
  if (!cut && !result.ok()) throw command_failure(result, request.head ? "head" : "tail");
  auto part = parse_head_tail_output(std::move(result.out), request, max_content);
  co_return part;
}

Task<std::string> view(core::CommandRunner& runner, const std::string& path, const ViewRange& range) {
  if (auto files = co_await runner.files()) {
    file_calls::Record record(runner, "view");
    auto bytes = co_await file_calls::view(*files, path, range);
    record.done(bytes.has_value());
    if (bytes) co_return std::move(*bytes);
  }
  // dd reads exactly [offset, offset + size) in bytes; "if=" + an absolute path is one word.
  auto argv = with_c_locale({"dd", "if=" + path, "iflag=skip_bytes,count_bytes,fullblock", "bs=65536",
                             "skip=" + std::to_string(range.offset), "count=" + std::to_string(range.size),
                             "status=none"});
  auto out = co_await run_checked(runner, std::move(argv), "dd");
  co_return out;
}

Task<std::string> file_type(core::CommandRunner& runner, const std::string& path) {
  // -E: a missing or unreadable file is an error (exit status), not a "cannot open" answer.
  auto argv = with_c_locale({"file", "-E", "-b", "--", path});
  auto out = co_await run_checked(runner, std::move(argv), "file", true);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  co_return out;
}

Task<LsEntry> mkdir(core::CommandRunner& runner, const std::string& path, bool parents) {
  // With parents, a refusal (a missing parent, an existing directory) is mkdir -p's to settle.
  if (auto files = co_await runner.files()) {
    file_calls::Record record(runner, "mkdir");
    const bool made = co_await file_calls::mkdir(*files, path);
    record.done(made);
    if (made) {
      auto entry = co_await describe_changed(runner, *files, path);
      co_return entry;
    }
  }
  auto argv = parents ? with_c_locale({"mkdir", "-p", "--", path}) : with_c_locale({"mkdir", "--", path});
  auto entry = co_await act_and_describe(runner, argv, "mkdir", path);
  co_return entry;
}

Task<LsEntry> symlink(core::CommandRunner& runner, const std::string& target, const std::string& link) {
  if (auto files = co_await runner.files()) {
    file_calls::Record record(runner, "symlink");
    const bool made = co_await file_calls::symlink(*files, target, link);
    record.done(made);
    if (made) {
      auto entry = co_await describe_changed(runner, *files, link);
      co_return entry;
    }
  }
  auto argv = with_c_locale({"ln", "-s", "--", target, link});
  auto entry = co_await act_and_describe(runner, argv, "ln", link);
  co_return entry;
}

Task<LsEntry> chmod(core::CommandRunner& runner, const std::string& path, const std::string& mode) {
  const auto value = octal_mode_value(mode);
  if (value) {
    if (auto files = co_await runner.files()) {
      file_calls::Record record(runner, "chmod");
      const bool changed = co_await file_calls::chmod(*files, path, *value);
      record.done(changed);
      if (changed) {
        auto entry = co_await describe_changed(runner, *files, path);
        co_return entry;
      }
    }
  }
  auto argv = with_c_locale({"chmod", "--", mode, path});
  auto entry = co_await act_and_describe(runner, argv, "chmod", path);
  co_return entry;
}

Task<LsEntry> chown(core::CommandRunner& runner, const std::string& path, const std::string& spec) {
  auto argv = with_c_locale({"chown", "--", spec, path});
  auto entry = co_await act_and_describe(runner, argv, "chown", path);
  co_return entry;
}

Task<void> copy(core::CommandRunner& runner, const std::string& source, const std::string& target, bool dereference,
                bool exact_target) {
  auto argv = with_c_locale({"cp", "--force", exact_target ? "-RT" : "-R", dereference ? "-L" : "-P", "--preserve=all",
                             "--", source, target});
  co_await run_checked(runner, std::move(argv), "cp");
}

Task<void> move(core::CommandRunner& runner, const std::string& source, const std::string& target, bool exact_target) {
  auto argv = exact_target ? with_c_locale({"mv", "--force", "-T", "--", source, target})
                           : with_c_locale({"mv", "--force", "--", source, target});
  co_await run_checked(runner, std::move(argv), "mv");
}

Task<void> rm(core::CommandRunner& runner, const std::string& path) {
  if (auto files = co_await runner.files()) {
    file_calls::Record record(runner, "rm");
    const bool removed = co_await file_calls::rm(*files, path);
    record.done(removed);
    if (removed) co_return;
  }
  auto argv = with_c_locale({"rm", "-r", "--interactive=never", "--", path});
  co_await run_checked(runner, std::move(argv), "rm");
}

Task<void> compress(core::CommandRunner& runner, CompressCommands commands) {
  std::string names;
  if (commands.find) {
    core::Command find;
    find.argv = std::move(*commands.find);
    auto found = co_await runner.run(std::move(find));
    if (!found.ok()) throw archive_failure(found, "find");
    if (found.out_truncated) throw core::Failure(core::ErrorKind::too_large, "too many files match; use the transfer API");
    names = std::move(found.out);
  }
  co_await run_archive(runner, std::move(commands.tar), "tar", std::move(names));
}

Task<void> extract(core::CommandRunner& runner, std::vector<std::string> tar) {
  co_await run_archive(runner, std::move(tar), "tar");
}

}  // namespace portico::filesystem
