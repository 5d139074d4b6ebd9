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
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"

log() { printf '[bench] %s\n' "$*" >&2; }

[ "$(id -u)" = 0 ] || { log "must run as root (Postfix's master must start as root)"; exit 2; }

# --- prerequisites -------------------------------------------------------------------
if [ ! -x /usr/sbin/smtp-source ] || [ ! -x /usr/sbin/postfix ]; then
  log "installing Debian's postfix (smtp-source + postfix), not configured and not started"
  # "No configuration": postinst writes no /etc/postfix/main.cf and does not start it.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y postfix >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y postfix >/dev/null
  fi
fi
# apt normally creates these; create them if it did not (Postfix refuses to run without).
getent group postdrop >/dev/null || groupadd --system postdrop
getent group postfix >/dev/null || groupadd --system postfix
getent passwd postfix >/dev/null ||
  useradd --system --gid postfix --home-dir /var/spool/postfix --no-create-home --shell /usr/sbin/nologin postfix

if [ ! -f bench/haraka/node_modules/Haraka/package.json ]; then
  log "installing Haraka into bench/haraka (npm ci, lockfile pinned)"
  (cd bench/haraka && npm ci --omit=optional --no-audit --no-fund --loglevel=error)
fi

# --- work dir (disk-backed: fsync must mean something) ------------------------------
BENCH_TMPDIR="${BENCH_TMPDIR:-/var/tmp}"
WORK="$(mktemp -d "$BENCH_TMPDIR/pochta-bench.XXXXXX")"
# mktemp makes it 0700; Postfix's unprivileged daemons (user postfix) must traverse it.
chmod 0755 "$WORK"
export BENCH_WORK="$WORK"

DRIVER_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [ -n "$DRIVER_PID" ] && kill -0 "$DRIVER_PID" 2>/dev/null; then
    kill -TERM "$DRIVER_PID" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$DRIVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DRIVER_PID" 2>/dev/null || true
  fi
  # Backstop for anything the driver could not stop (it removes these files itself).
  if [ -f "$WORK/pids/postfix.confdir" ]; then
    confdir="$(cat "$WORK/pids/postfix.confdir")"
    log "stopping leftover private Postfix ($confdir)"
    /usr/sbin/postfix -c "$confdir" stop >/dev/null 2>&1 || /usr/sbin/postfix -c "$confdir" abort >/dev/null 2>&1 || true
  fi
  for f in "$WORK"/pids/*.pgid; do
    [ -f "$f" ] || continue
    pgid="$(cat "$f")"
    log "killing leftover process group $pgid ($(basename "$f" .pgid))"
    kill -TERM -- "-$pgid" 2>/dev/null || true
    sleep 1
    kill -KILL -- "-$pgid" 2>/dev/null || true
  done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then
    log "work dir kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Run the driver in the background and wait, so that signals reach the trap at once.
node --import tsx "$HERE/run.ts" &
DRIVER_PID=$!
wait "$DRIVER_PID"
