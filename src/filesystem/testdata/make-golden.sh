#!/bin/sh
# Regenerates the static goldens of this folder (see README.md). Run as root on the demo site:
# the files are made and listed as alice, so owner and group are a real user's.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
as_alice() { runuser -u alice -- env LC_ALL=C "$@"; }
stamp=2026-01-02T03:04:05

dir=/tmp/portico-golden-adv
rm -rf "$dir"
as_alice mkdir -m 0755 "$dir"
cd "$dir"
as_alice sh -c '
  printf "hello world" > "with space"
  : > "$(printf "it'"'"'s \"quoted\"")"; chmod 640 "it'"'"'s \"quoted\""
  : > "\$(id)"; : > "\`id\`"; : > "$(printf "new\nline")"; : > ./-rf
  : > "$(printf "\377\376")"; printf "secret\n" > .hidden
  ln -s "with space" link; mkfifo fifo; mkdir "sub dir"; truncate -s 5G sparse
  : > "$(printf "tab\there")"
'
as_alice find "$dir" -mindepth 1 -exec touch -h -d "$stamp" {} +
as_alice ls -l --quoting-style=c --time-style=+%Y-%m-%dT%H:%M:%S -A -- "$dir" > "$here/ls_adversarial.txt"

dir=/tmp/portico-golden
rm -rf "$dir"
as_alice mkdir -m 0755 "$dir"
as_alice sh -c '
  cd /tmp/portico-golden
  mkdir -p "sub dir/deeper"; printf "abc" > "sub dir/$(printf "in\nner")"; : > "sub dir/deeper/z"
'
as_alice find "$dir" -mindepth 1 -exec touch -h -d "$stamp" {} +
as_alice ls -l --quoting-style=c --time-style=+%Y-%m-%dT%H:%M:%S -n -R -- "$dir" > "$here/ls_recursive_numeric.txt"

printf 'hello\n' > "$dir/stat-me"
chown alice:hpcusers "$dir/stat-me"
chmod 0640 "$dir/stat-me"
touch -d "$stamp" "$dir/stat-me"
as_alice stat --printf='%f %i %d %h %u %g %s %X %Y %Z\n' -- "$dir/stat-me" > "$here/stat_file.txt"
as_alice stat --printf='%f %i %d %h %u %g %s %X %Y %Z\n' -- "$dir/sub dir" > "$here/stat_dir.txt"
rm -rf /tmp/portico-golden-adv /tmp/portico-golden
