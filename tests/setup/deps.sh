#!/usr/bin/env bash
# One set-up for every test that drives a real peer (issue #22): `make test` and `.ci/run` both
# call this, so a fresh machine with only Rust and root gets the same suite CI runs.
#
# Installs only what is missing. Without root (and without sudo) it installs nothing and fails
# with the one command to run, rather than letting the browser tests fail half-way.
#
# Peers today: Debian's chromium + node/npm (playwright-core drives the browser, tests/browser);
# curl, python3 and swaks (tests/it/readme.rs runs README's examples with them); dkimpy and PyNaCl
# (tests/it/send_outgoing.rs verifies DKIM signatures with them too); sievelib (a ManageSieve
# client, tests/it/sieve_managesieve.rs); pebble, Let's Encrypt's test CA
# (tests/it/acme_pebble.rs issues and renews certificates against it); dovecot-imapd, the IMAP
# server tests/it/transfer_imap.rs imports from (its binary is /usr/sbin/dovecot).
set -euo pipefail
cd "$(dirname "$0")/../.."

need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
command -v node >/dev/null 2>&1 || need="$need nodejs"
# The machine's node may come from another repository (NodeSource) with its own npm; asking apt
# for Debian's npm next to it would fight over the same files, so npm is asked for only when it is missing.
command -v npm >/dev/null 2>&1 || need="$need npm"
for tool in curl python3 swaks pebble; do command -v $tool >/dev/null 2>&1 || need="$need $tool"; done
[ -x /usr/sbin/dovecot ] && [ -e /usr/lib/dovecot/imap ] || need="$need dovecot-imapd"

if [ -n "$need" ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      SUDO="sudo"
    else
      echo "!! the tests need:$need" >&2
      echo "!! run this once as root, then make test again:" >&2
      echo "     apt-get update && apt-get install -y$need" >&2
      exit 1
    fi
  fi
  echo "== installing test peers:$need"
  $SUDO apt-get -qq update
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
fi

# dkimpy + PyNaCl: the independent DKIM verifier of tests/it/send_outgoing.rs. pip where it may
# install (a pyenv or venv python), else Debian's packages.
if ! python3 -c 'import dkim, nacl' 2>/dev/null; then
  echo "== installing dkimpy and PyNaCl"
  python3 -m pip install --quiet --disable-pip-version-check dkimpy pynacl 2>/dev/null \
    || { SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo";
         DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-dkim python3-nacl >/dev/null; } \
    || { echo "!! could not install dkimpy and PyNaCl: run  python3 -m pip install dkimpy pynacl" >&2; exit 1; }
  python3 -c 'import dkim, nacl'
fi

# sievelib: a real ManageSieve client (RFC 5804) for tests/it/sieve_managesieve.rs.
if ! python3 -c 'import sievelib.managesieve' 2>/dev/null; then
  echo "== installing sievelib"
  python3 -m pip install --quiet --disable-pip-version-check 'sievelib==1.6.0' \
    || { echo "!! could not install sievelib: run  python3 -m pip install sievelib" >&2; exit 1; }
  python3 -c 'import sievelib.managesieve'
fi

# playwright-core from the lock file; only when missing or the lock file changed.
stamp=tests/browser/node_modules/.mailnook-lock
if ! cmp -s tests/browser/package-lock.json "$stamp" 2>/dev/null; then
  echo "== npm ci in tests/browser"
  (cd tests/browser && npm ci --no-audit --no-fund) || {
    echo "!! npm ci in tests/browser failed (it needs the npm registry): the browser tests cannot run" >&2
    exit 1
  }
  cp tests/browser/package-lock.json "$stamp"
fi
