# Development shortcuts. Nothing requires `just`: every recipe is a plain command
# that can be typed by hand.

# PostgreSQL used by `just pg`.
pg_url := "postgres://postgres@127.0.0.1:5432/chitchat"

# List the recipes.
default:
    @just --list

# Run the server on http://localhost:8080 (SQLite in ./data).
run:
    cargo run

# Run every test (PostgreSQL and browser tests skip when unavailable).
test:
    cargo test --workspace

# Formatting and lints; clippy warnings count as errors.
check:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Dependency licenses and duplicate crates (deny.toml); `cargo install cargo-deny` first.
deny:
    cargo deny check licenses bans

# Install the browser test's Node.js packages (Chromium comes from Debian's `chromium`).
e2e-install:
    npm ci --prefix web/e2e

# Run the benchmark suite: `just bench` is the documented full run (about sixteen minutes;
# JSON in target/bench, plots in docs/bench), `just bench quick` a look in minutes, and
# `just bench quick receipts mix` only the named scenarios (`--mix-users N` shrinks the mix).
# Raises the open-file limit to its maximum for the many WebSocket connections.
bench *ARGS='all':
    ulimit -n "$(ulimit -Hn)" && cargo run --release -p chitchat-bench -- {{ARGS}}

# PostgreSQL's execution time per stored message, statement by statement: the durable
# send-rate scenario against a private cluster with pg_stat_statements (about a minute
# after the build). Extra arguments go to chitchat-bench, e.g. `just pg-stat --senders 100`.
pg-stat *ARGS:
    crates/bench/pg_stat.sh {{ARGS}}

# Install Synapse and ejabberd outside the workspace for `just bench all peers` (as root).
bench-peers-install:
    bash crates/bench/peers/install.sh

# Fuzz one target (ws_frame, request_bodies, phone) until stopped; extra arguments go
# to libFuzzer, e.g. `just fuzz phone -max_total_time=600`. Needs `cargo install cargo-fuzz`;
# `-s none` builds on the stable toolchain (coverage-guided, no sanitizer).
fuzz TARGET *ARGS:
    mkdir -p fuzz/target/corpus/{{TARGET}}
    cargo fuzz run {{TARGET}} -s none fuzz/target/corpus/{{TARGET}} fuzz/corpus/{{TARGET}} -- {{ARGS}}

# Run the CI script locally.
ci:
    bash .ci/run

# Run the server against a local PostgreSQL, creating the `chitchat` database if needed.
pg:
    psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'chitchat'" | grep -q 1 \
        || createdb -h 127.0.0.1 -U postgres chitchat
    DATABASE_URL={{pg_url}} cargo run
