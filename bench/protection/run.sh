#!/usr/bin/env bash
# Inbound protection benchmark: Pochta bare core vs core + full protection set, and a
# slow-DNS responsiveness check (127.0.0.1 only). A benchmark, not a test. Usage:
#     bash bench/protection/run.sh
# Settings are environment variables, see bench/protection/README.md. Appends to bench/RESULTS.md.
# Makes a disk-backed work dir, runs bench/protection/run.ts, and on exit/error/signal stops
# everything it started (Pochta process groups, clamd, unbound or the dns2 child, smtp-source)
# and removes the work dir. BENCH_DNS=unbound (default) installs Debian's unbound when absent.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/common.sh
. "$HERE/../lib/common.sh"
bench_init prot

command -v clamd >/dev/null || { log "clamd missing (apt-get install clamav-daemon)"; exit 2; }
[ -x "${SMTP_SOURCE:-/usr/sbin/smtp-source}" ] || { log "smtp-source missing (Debian package postfix; bench/smtp/run.sh installs it)"; exit 2; }

if [ "${BENCH_DNS:-unbound}" = unbound ] && [ "$(id -u)" = 0 ]; then
  bench_install_unbound || log "could not install unbound; the DNS server will be core/testing/dns-server.ts"
fi

bench_workdir pochta-prot

# Backstop for anything the driver could not stop (it removes these files itself). The *.pgid
# files include the DNS server (dns-unbound.pgid / dns-node.pgid: own process group each).
bench_backstop() {
  bench_kill_pgids "$WORK/pids/*.pgid" 1
  if [ -f "$WORK/pids/clamd.pid" ]; then
    pid="$(cat "$WORK/pids/clamd.pid")"
    log "killing leftover clamd $pid"
    kill -TERM "$pid" 2>/dev/null || true
  fi
}

bench_run_driver 200
