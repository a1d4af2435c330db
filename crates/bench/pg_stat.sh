#!/usr/bin/env bash
# PostgreSQL's execution time per stored message, statement by statement: runs
# the durable send-rate scenario (section 1 of docs/benchmarks.md) against a
# private PostgreSQL cluster with pg_stat_statements loaded, and prints the
# statements of the sending window.
#
#   crates/bench/pg_stat.sh [chitchat-bench options...]     (or: just pg-stat)
#
# PG_STAT_PORT: the cluster's port (default 5499). CHITCHAT_BIN: the server to
# measure (default: built by `cargo run`, like the suite). BENCH: the command that
# runs the suite (default `cargo run --release -p chitchat-bench --`). Takes
# about a minute after the build: the plain-INSERT baseline, then 12 s of sending.
# The cluster lives in a temporary folder, removed at the end.
set -euo pipefail

port=${PG_STAT_PORT:-5499}
read -r -a bench <<<"${BENCH:-cargo run --release -p chitchat-bench --}"
bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "no PostgreSQL binaries under /usr/lib/postgresql" >&2; exit 1; }

work=$(mktemp -d)
# initdb refuses to run as root: the cluster then belongs to the postgres user.
as_owner=()
if [ "$(id -u)" = 0 ]; then
    chown postgres "$work"
    as_owner=(runuser -u postgres --)
fi
stop() {
    "${as_owner[@]}" "$bin/pg_ctl" -D "$work/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap stop EXIT

"${as_owner[@]}" "$bin/initdb" -D "$work/data" -U postgres --auth=trust >/dev/null
# The settings of the documented machine (fsync and synchronous commit on), plus
# the statistics.
"${as_owner[@]}" "$bin/pg_ctl" -D "$work/data" -l "$work/data/log" -w \
    -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements" \
    start >/dev/null
admin="postgres://postgres@127.0.0.1:$port/postgres"
sql() { psql "$admin" -v ON_ERROR_STOP=1 -qAt "$@"; }
sql -c "CREATE EXTENSION pg_stat_statements" -c "CREATE DATABASE test"

# Counts from when the senders start until the server stops, so that neither the
# baseline, the logins nor the dropping of the database are in the figures.
mkdir -p "$work/out"
TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/test" \
    "${bench[@]}" all send-rate --out "$work/out" --plots "$work/out" "$@" 2>&1 |
    while IFS= read -r line; do
        printf '%s\n' "$line"
        case $line in
            *"] sending") sql -c "SELECT pg_stat_statements_reset()" >/dev/null ;;
            *"] stopping chitchat") sql -c "CREATE TABLE window_stats AS SELECT * FROM pg_stat_statements" ;;
        esac
    done

sql -c "SELECT 1 FROM window_stats LIMIT 1" >/dev/null 2>&1 || { echo "the scenario did not reach its sending window" >&2; exit 1; }
sql <<'EOF'
-- The messages stored, and in how many batches: the rows and calls of the
-- statements that insert them.
CREATE TEMP VIEW totals AS SELECT
    (SELECT sum(rows) FROM window_stats WHERE query ~* 'insert into messages') AS messages,
    (SELECT sum(calls) FROM window_stats WHERE query ~* 'insert into messages') AS batches,
    sum(total_exec_time) AS total_ms,
    sum(calls) AS calls
  FROM window_stats;
\echo
\echo PostgreSQL execution time per message (sending window)
\echo
\echo '| messages stored | batches | statements run | statements per message | execution time per message |'
\echo '| --- | --- | --- | --- | --- |'
SELECT format('| %s | %s | %s | %s | %s µs |', messages, batches, calls, round(calls / messages, 2),
              round((total_ms * 1000 / messages)::numeric, 1))
  FROM totals;
\echo
\echo '| statement | calls | mean µs | µs per message | share |'
\echo '| --- | --- | --- | --- | --- |'
SELECT format('| `%s` | %s | %s | %s | %s %% |',
              left(regexp_replace(replace(w.query, '|', '/'), '\s+', ' ', 'g'), 100), w.calls,
              round((w.mean_exec_time * 1000)::numeric, 1),
              round((w.total_exec_time * 1000 / t.messages)::numeric, 1),
              round((100 * w.total_exec_time / t.total_ms)::numeric, 1))
  FROM window_stats w, totals t
  ORDER BY w.total_exec_time DESC
  LIMIT 12;
EOF
