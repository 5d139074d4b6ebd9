# Shared prelude for bench/*/run.sh (sourced, not run). A run.sh sets HERE to its own folder,
# sources this file, calls what it needs, defines `bench_backstop` (optional: stops what its
# driver could not) and ends with `bench_run_driver`.
#   bench_init TAG            cd to the repo, set REPO, define log() with a [TAG] prefix
#   bench_require_root WHY    exit 2 unless root
#   bench_install_postfix     Debian's postfix (smtp-source/smtp-sink/postfix), not configured or started
#   bench_install_unbound     Debian's unbound (binary only): service neither started nor enabled
#   bench_workdir NAME [MODE] a disk-backed work dir in BENCH_TMPDIR (/var/tmp): WORK, BENCH_WORK
#   bench_kill_pgids GLOB S   SIGTERM, S seconds, SIGKILL each process group named in GLOB files
#   bench_run_driver [TENTHS] run $HERE/run.ts; on exit/error/signal stop it (SIGKILL after TENTHS/10 s),
#                             run bench_backstop, remove WORK unless BENCH_KEEP=1

bench_init() {
  REPO="$(cd "$HERE/../.." && pwd)"
  cd "$REPO"
  BENCH_TAG="$1"
}

log() { printf '[%s] %s\n' "${BENCH_TAG:-bench}" "$*" >&2; }

bench_require_root() {
  [ "$(id -u)" = 0 ] || { log "must run as root ($1)"; exit 2; }
}

bench_install_postfix() {
  if [ ! -x /usr/sbin/smtp-source ] || [ ! -x /usr/sbin/smtp-sink ] || [ ! -x /usr/sbin/postfix ]; then
    log "installing Debian's postfix (smtp-source, smtp-sink, postfix), not configured and not started"
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
}

# Only the binaries are wanted: a policy-rc.d that answers 101 ("action forbidden") keeps the
# package scripts from starting or enabling the service during the install (a pre-existing one is
# left alone); no recommends, so no root-hints/trust-anchor package and no unbound-anchor run.
bench_install_unbound() {
  command -v unbound >/dev/null && command -v unbound-control >/dev/null && return 0
  log "installing Debian's unbound (binary only; the service is not started or enabled)"
  local prc=/usr/sbin/policy-rc.d own=0
  if [ ! -e "$prc" ]; then
    printf '#!/bin/sh\n# bench_install_unbound: no service starts during this install\nexit 101\n' >"$prc"
    chmod 755 "$prc"
    own=1
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends unbound >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends unbound >/dev/null
  } || rc=$?
  if [ "$own" = 1 ]; then rm -f "$prc"; fi
  return "$rc"
}

# Disk-backed (fsync must mean something). mktemp makes it 0700; MODE 0755 lets unprivileged
# daemons (Postfix's, Dovecot's) traverse it.
bench_workdir() {
  BENCH_TMPDIR="${BENCH_TMPDIR:-/var/tmp}"
  WORK="$(mktemp -d "$BENCH_TMPDIR/$1.XXXXXX")"
  if [ -n "${2:-}" ]; then chmod "$2" "$WORK"; fi
  export BENCH_WORK="$WORK"
}

bench_kill_pgids() {
  local f pgid
  for f in $1; do
    [ -f "$f" ] || continue
    pgid="$(cat "$f")"
    log "killing leftover process group $pgid ($(basename "$f" .pgid))"
    kill -TERM -- "-$pgid" 2>/dev/null || true
    sleep "$2"
    kill -KILL -- "-$pgid" 2>/dev/null || true
  done
}

DRIVER_PID=""
BENCH_DRIVER_GRACE=150

bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [ -n "$DRIVER_PID" ] && kill -0 "$DRIVER_PID" 2>/dev/null; then
    kill -TERM "$DRIVER_PID" 2>/dev/null || true
    for _ in $(seq 1 "$BENCH_DRIVER_GRACE"); do kill -0 "$DRIVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DRIVER_PID" 2>/dev/null || true
  fi
  if declare -F bench_backstop >/dev/null; then bench_backstop || true; fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}

# The driver runs in the background and is waited for, so that signals reach the trap at once.
bench_run_driver() {
  BENCH_DRIVER_GRACE="${1:-150}"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM HUP
  node --import tsx "$HERE/run.ts" &
  DRIVER_PID=$!
  wait "$DRIVER_PID"
}
