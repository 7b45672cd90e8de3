#!/bin/sh
# Container entry: runs one dibs deployable, named by the first argument or $DIBS_SERVICE.
# `exec` makes node PID 1's only child-free process, so SIGTERM reaches its graceful close directly.
set -eu
what="${1:-${DIBS_SERVICE:-}}"
case "$what" in
  intake | routing | notification | analytics) exec node "/app/$what/dist/main.js" ;;
  migrate) exec node /app/migrate/dist/migrate.js ;;
  *)
    echo "usage: <intake|routing|notification|analytics|migrate> (got \"$what\")" >&2
    exit 64
    ;;
esac
