#!/usr/bin/env bash
# Outbound delivery benchmark: a whole Pochta server vs a private Postfix 3.7 relay, both taking
# the same load over SMTP while held, then delivering it to Postfix's smtp-sink on 127.0.0.1 (only
# that phase is timed). A benchmark, not a test. See README.md.
# Usage (as root — Postfix's master must start as root):  bash bench/outbound/run.sh
# Settings (environment): BENCH_MESSAGES (2000), BENCH_RCPTS (3), BENCH_SIZE (4096),
# BENCH_CONCURRENCY (20), BENCH_ROUNDS (2), BENCH_TIMEOUT_S (300), BENCH_POCHTA_WORKERS (1),
# BENCH_POCHTA_QUEUE (2 × BENCH_CONCURRENCY), BENCH_NODE_FLAGS.
# Appends to bench/RESULTS.md, or to $BENCH_RESULTS (trial runs).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/common.sh
. "$HERE/../lib/common.sh"
bench_init bench
bench_require_root "Postfix's master must start as root"
bench_install_postfix
bench_workdir pochta-obench 0755

# Backstop: a private Postfix the driver could not stop.
bench_backstop() {
  if [ -f "$WORK/postfix.confdir" ]; then
    /usr/sbin/postfix -c "$(cat "$WORK/postfix.confdir")" abort >/dev/null 2>&1 || true
  fi
}

bench_run_driver 100
