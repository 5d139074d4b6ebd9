#!/usr/bin/env bash
# SMTP accept-throughput benchmark: Pochta vs Postfix 3.7 vs Haraka 3.3 (127.0.0.1 only).
# A benchmark, not a test. Usage (from anywhere, as root — Postfix needs it):
#     bash bench/smtp/run.sh
# Settings are environment variables, see bench/smtp/README.md. Appends to bench/RESULTS.md.
#
# This script: installs what is missing (Debian postfix for smtp-source and the Postfix
# server, without configuring or starting the system Postfix; Haraka into bench/haraka),
# makes a disk-backed work dir, runs bench/smtp/run.ts, and on exit/error/signal stops
# everything it started (private Postfix instance, Haraka, Pochta, smtp-source).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/common.sh
. "$HERE/../lib/common.sh"
bench_init bench
bench_require_root "Postfix's master must start as root"

# --- prerequisites -------------------------------------------------------------------
bench_install_postfix

if [ ! -f bench/haraka/node_modules/Haraka/package.json ]; then
  log "installing Haraka into bench/haraka (npm ci, lockfile pinned)"
  (cd bench/haraka && npm ci --omit=optional --no-audit --no-fund --loglevel=error)
fi

bench_workdir pochta-bench 0755

# Backstop for anything the driver could not stop (it removes these files itself).
bench_backstop() {
  if [ -f "$WORK/pids/postfix.confdir" ]; then
    confdir="$(cat "$WORK/pids/postfix.confdir")"
    log "stopping leftover private Postfix ($confdir)"
    /usr/sbin/postfix -c "$confdir" stop >/dev/null 2>&1 || /usr/sbin/postfix -c "$confdir" abort >/dev/null 2>&1 || true
  fi
  bench_kill_pgids "$WORK/pids/*.pgid" 1
}

bench_run_driver 150
