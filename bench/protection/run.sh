#!/usr/bin/env bash
# Inbound protection benchmark: Pochta bare core vs core + full protection set, and a
# slow-DNS responsiveness check (127.0.0.1 only). A benchmark, not a test. Usage:
#     bash bench/protection/run.sh
# Settings are environment variables, see bench/protection/README.md. Appends to bench/RESULTS.md.
# Makes a disk-backed work dir, runs bench/protection/run.ts, and on exit/error/signal stops
# everything it started (Pochta process groups, clamd, smtp-source) and removes the work dir.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/common.sh
. "$HERE/../lib/common.sh"
bench_init prot

command -v clamd >/dev/null || { log "clamd missing (apt-get install clamav-daemon)"; exit 2; }
[ -x "${SMTP_SOURCE:-/usr/sbin/smtp-source}" ] || { log "smtp-source missing (Debian package postfix; bench/smtp/run.sh installs it)"; exit 2; }

bench_workdir pochta-prot

# Backstop for anything the driver could not stop (it removes these files itself).
bench_backstop() {
  bench_kill_pgids "$WORK/pids/*.pgid" 1
  if [ -f "$WORK/pids/clamd.pid" ]; then
    pid="$(cat "$WORK/pids/clamd.pid")"
    log "killing leftover clamd $pid"
    kill -TERM "$pid" 2>/dev/null || true
  fi
}

bench_run_driver 200
