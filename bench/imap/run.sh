#!/usr/bin/env bash
# IMAP benchmark: Pochta vs Dovecot 2.3 (Debian) on 127.0.0.1. A benchmark, not a test.
# Usage (from anywhere, as root — Dovecot's master must start as root):
#     bash bench/imap/run.sh
# Settings are environment variables, see bench/imap/README.md. Appends to bench/RESULTS.md.
# Makes a disk-backed work dir, runs bench/imap/run.ts, and on exit/error/signal stops everything
# it started (the private Dovecot instance, Pochta) and removes the work dir.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/common.sh
. "$HERE/../lib/common.sh"
bench_init bench:imap
bench_require_root "Dovecot's master must start as root"
[ -x /usr/sbin/dovecot ] || { log "Dovecot is missing: apt-get install dovecot-imapd"; exit 2; }
# 1,000 sessions need 1,000 client sockets and as many server descriptors.
ulimit -n 20000 2>/dev/null || log "could not raise the descriptor limit ($(ulimit -n))"

bench_workdir pochta-imap-bench 0755

# Backstops for what the driver could not stop (it removes these files itself).
bench_backstop() {
  if [ -f "$WORK/pids/dovecot.conf" ]; then
    log "stopping leftover private Dovecot"
    /usr/sbin/dovecot -c "$(cat "$WORK/pids/dovecot.conf")" stop >/dev/null 2>&1 || true
  fi
  bench_kill_pgids "$WORK/pids/pochta.pgid" 2
}

bench_run_driver 150
