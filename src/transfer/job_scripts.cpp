#include "transfer/job_scripts.hpp"

#include "core/shell.hpp"

namespace portico::transfer {

namespace {

// What every script starts with. `fail` names the failure on stderr and ends the job FAILED.
constexpr const char* kPrelude =
    "#!/bin/bash\n"
    "# A Portico transfer job.\n"
    "export LC_ALL=C\n"
    "fail() { printf '%s\\n' \"$*\" >&2; exit 1; }\n";

std::string script(const std::vector<std::string>& values, const char* body) {
  std::vector<std::string> set{"set", "--"};
  set.insert(set.end(), values.begin(), values.end());
  return std::string(kPrelude) + core::command_line(set) + "\n" + body;
}

}  // namespace

std::uint64_t parts_for(std::uint64_t size, std::uint64_t part_bytes) {
  if (size == 0) return 1;
  return (size + part_bytes - 1) / part_bytes;
}

std::string copy_script(const std::string& source, const std::string& target, bool dereference, bool resume) {
  // -L follows symbolic links in the source; -P copies them as links.
  return script({dereference ? "-L" : "-P", resume ? "-RT" : "-R", source, target},
                "cp --force \"$2\" \"$1\" --preserve=all -- \"$3\" \"$4\" ||\n"
                "  fail \"Could not copy $3 to $4 (cp exited with status $?)\"\n"
                "echo 'Files were successfully copied.'\n");
}

std::string move_script(const std::string& source, const std::string& target, bool resume) {
  if (!resume)
    return script({source, target},
                  "mv --force -- \"$1\" \"$2\" || fail \"Could not move $1 to $2 (mv exited with status $?)\"\n"
                  "echo 'Files were successfully moved.'\n");
  // A tree an interrupted mv was copying across file systems: copy on into it, then remove the
  // source, as mv itself would have.
  return script({source, target},
                "if [ -d \"$1\" ] && [ ! -L \"$1\" ] && [ -d \"$2\" ]; then\n"
                "  cp --force -R -P --preserve=all -T -- \"$1\" \"$2\" ||\n"
                "    fail \"Could not move $1 to $2 (cp exited with status $?)\"\n"
                "  rm -R --interactive=never -- \"$1\" || fail \"Could not move $1 to $2 (rm exited with status $?)\"\n"
                "else\n"
                "  mv --force -T -- \"$1\" \"$2\" || fail \"Could not move $1 to $2 (mv exited with status $?)\"\n"
                "fi\n"
                "echo 'Files were successfully moved.'\n");
}

std::string remove_script(const std::string& path, bool resume) {
  return script({resume ? "--force" : "--interactive=never", path},
                "rm -R \"$1\" -- \"$2\" || fail \"Could not delete $2 (rm exited with status $?)\"\n"
                "echo 'Files were successfully deleted.'\n");
}

std::string compress_script(const std::string& source, const std::string& target,
                            const filesystem::CompressCommands& commands) {
  std::string body = "set -o pipefail\n";
  if (commands.find) body += core::command_line(*commands.find) + " | ";
  body += core::command_line(commands.tar) +
          " ||\n  fail \"Could not compress $1 into $2 (exit status $?)\"\n"
          "echo 'Files were successfully compressed.'\n";
  return script({source, target}, body.c_str());
}

std::string extract_script(const std::string& source, const std::string& target,
                           const std::vector<std::string>& tar) {
  std::string body = core::command_line(tar) +
                     " ||\n  fail \"Could not extract $1 into $2 (exit status $?)\"\n"
                     "echo 'Files were successfully extracted.'\n";
  return script({source, target}, body.c_str());
}

std::string upload_script(const std::string& target, const std::string& get_url, const std::string& delete_url,
                          std::uint64_t size) {
  return script(
      {target, get_url, delete_url, std::to_string(size)},
      "target=$1\n"
      "dir=$(dirname -- \"$target\")\n"
      "[ -d \"$target\" ] && fail \"Could not upload $target: Is a directory\"\n"
      "[ -d \"$dir\" ] || fail \"Could not upload $target: $dir: No such file or directory\"\n"
      "[ -w \"$dir\" ] || fail \"Could not upload $target: $dir: Permission denied\"\n"
      // A new file nobody else can have planted, moved over the target only when complete.
      "tmp=$(mktemp -p \"$dir\" .portico-upload.XXXXXXXXXX) || fail \"Could not upload $target: cannot create a file in $dir\"\n"
      "trap 'rm -f -- \"$tmp\"' EXIT\n"
      "chmod \"$(printf '%o' $(( 0666 & ~$(umask) )))\" -- \"$tmp\"\n"
      "curl --fail --silent --show-error --retry 5 --retry-all-errors --output \"$tmp\" --url \"$2\" ||\n"
      "  fail \"Could not upload $target: the staged object could not be read (curl exited with status $?)\"\n"
      "got=$(stat -c %s -- \"$tmp\")\n"
      "[ \"$got\" = \"$4\" ] || fail \"Could not upload $target: the staged object holds $got bytes, not $4\"\n"
      "mv -f -T -- \"$tmp\" \"$target\" || fail \"Could not upload $target (mv exited with status $?)\"\n"
      "trap - EXIT\n"
      "curl --fail --silent --show-error --retry 3 --request DELETE --output /dev/null --url \"$3\" ||\n"
      "  echo 'warning: the staged object was not deleted; the staging area expires it' >&2\n"
      "printf 'File was successfully uploaded to %s\\n' \"$target\"\n");
}

std::string download_script(const std::string& source, std::uint64_t part_bytes, unsigned parallel,
                            const std::vector<std::string>& part_urls, const std::string& complete_url) {
  std::vector<std::string> values{source, std::to_string(part_bytes), std::to_string(parallel), complete_url};
  values.insert(values.end(), part_urls.begin(), part_urls.end());
  return script(
      values,
      "src=$1 part=$2 parallel=$3 complete=$4\n"
      "shift 4\n"
      "[ -f \"$src\" ] || fail \"Could not stage $src: not a regular file (or No such file or directory)\"\n"
      "[ -r \"$src\" ] || fail \"Could not stage $src: Permission denied\"\n"
      "size=$(stat -L -c %s -- \"$src\") || fail \"Could not stage $src: stat failed\"\n"
      "need=$(( size == 0 ? 1 : (size + part - 1) / part ))\n"
      "[ \"$need\" -eq $# ] || fail \"Could not stage $src: its size changed to $size bytes since the download was requested\"\n"
      "work=$(mktemp -d) || fail \"Could not stage $src: no temporary directory\"\n"
      "trap 'rm -rf -- \"$work\"' EXIT\n"
      // One part: its bytes straight from the file (no copy on disk), Content-Length set and
      // chunking off, as S3 requires; its ETag kept for the completion.
      "send_part() {\n"
      "  local i=$1 url=$2 off len attempt etag\n"
      "  off=$(( (i - 1) * part ))\n"
      "  len=$(( size - off < part ? size - off : part ))\n"
      "  for attempt in 1 2 3; do\n"
      "    if dd if=\"$src\" iflag=skip_bytes,count_bytes bs=1M skip=\"$off\" count=\"$len\" status=none |\n"
      "       curl --fail --silent --show-error --request PUT --upload-file - -H \"Content-Length: $len\" \\\n"
      "         -H 'Transfer-Encoding:' -H 'Expect:' --dump-header \"$work/h$i\" --output /dev/null --url \"$url\"; then\n"
      "      etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]:[[:space:]]*//p' \"$work/h$i\" | tr -d '\\r')\n"
      "      if [ -n \"$etag\" ]; then printf '%s' \"$etag\" > \"$work/e$i\"; return 0; fi\n"
      "    fi\n"
      "  done\n"
      "  printf 'part %s could not be sent\\n' \"$i\" >&2\n"
      "  return 1\n"
      "}\n"
      "i=0 running=0 failed=0\n"
      "for url in \"$@\"; do\n"
      "  i=$((i + 1))\n"
      "  send_part \"$i\" \"$url\" &\n"
      "  running=$((running + 1))\n"
      "  if [ \"$running\" -ge \"$parallel\" ]; then wait -n || failed=1; running=$((running - 1)); fi\n"
      "done\n"
      "while [ \"$running\" -gt 0 ]; do wait -n || failed=1; running=$((running - 1)); done\n"
      "[ \"$failed\" = 0 ] || fail \"Could not stage $src: a part could not be sent to the staging area\"\n"
      "{\n"
      "  printf '<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">'\n"
      "  for ((k = 1; k <= $#; k++)); do\n"
      "    printf '<Part><PartNumber>%s</PartNumber><ETag>%s</ETag></Part>' \"$k\" \"$(cat \"$work/e$k\")\"\n"
      "  done\n"
      "  printf '</CompleteMultipartUpload>'\n"
      "} > \"$work/complete.xml\"\n"
      "curl --fail --silent --show-error --retry 3 --request POST -H 'Content-Type: application/xml' \\\n"
      "  --data-binary @\"$work/complete.xml\" --output \"$work/answer\" --url \"$complete\" ||\n"
      "  fail \"Could not stage $src: the staging area refused to complete the upload (curl exited with status $?)\"\n"
      // S3 may answer a failed completion with 200 and an <Error> body.
      "if grep -q '<Error>' \"$work/answer\"; then fail \"Could not stage $src: $(cat \"$work/answer\")\"; fi\n"
      "printf 'File was successfully staged for download: %s\\n' \"$src\"\n");
}

}  // namespace portico::transfer
