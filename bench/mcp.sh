#!/usr/bin/env bash
# The MCP bridge's cost: the median round trip of a trivial tool call
# through `credential-oauth mcp URL` against a direct HTTP call to the
# same server (an MCP server built with the official Python SDK, JSON
# answers, tokens from the bundled test server), and, where npx can run
# mcp-remote, against mcp-remote. Prints a Markdown table.
#
#   bench/mcp.sh            CALLS=N: timed calls per case (default 500)
#
# Needs the release build (cargo build --release), the SDK venv .ci/run
# makes (target/mcp-tools), curl; optional: npx and mcp-remote
# (npm install --prefix target/bench-npm mcp-remote).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
calls=${CALLS:-500}
co=$repo/target/release/credential-oauth
python=$repo/target/mcp-tools/bin/python
[ -x "$co" ] || { echo "bench/mcp.sh: build first: cargo build --release" >&2; exit 1; }
[ -x "$python" ] || { echo "bench/mcp.sh: $python is needed (see .ci/run)" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
export HOME=$work/home XDG_CONFIG_HOME= XDG_CACHE_HOME= CREDENTIAL_OAUTH_LOG=
export DBUS_SESSION_BUS_ADDRESS=unix:path=$work/no-bus CREDENTIAL_OAUTH_STORAGE=file
mkdir -p "$HOME"
cargo build --release -q -p oauth-test-server 2>/dev/null || true
server=$repo/target/release/oauth-test-server
[ -x "$server" ] || server=$repo/target/debug/oauth-test-server
"$server" --client mcp-server:mcp-server-secret >"$work/as.out" &
pids+=($!)
until grep -q '^issuer: ' "$work/as.out" 2>/dev/null; do sleep 0.05; done
issuer=$(sed -n 's/^issuer: //p' "$work/as.out")
"$python" tests/mcp/server.py "$issuer" mcp-server:mcp-server-secret --json --cache-introspection >"$work/mcp.out" &
pids+=($!)
until grep -q '^url: ' "$work/mcp.out" 2>/dev/null; do sleep 0.05; done
url=$(sed -n 's/^url: //p' "$work/mcp.out")
printf '#!/bin/sh\ncurl -sS -L -o /dev/null "$1"\n' >"$work/browser"
chmod +x "$work/browser"
BROWSER=$work/browser "$co" login "$url" 2>/dev/null
other=()
remote=$repo/target/bench-npm/node_modules/.bin/mcp-remote
if [ -x "$remote" ] && command -v node >/dev/null; then
    other=("$remote")
fi
result=$("$python" bench/mcp.py "$co" "$url" "$calls" "${other[@]}")
field() { "$python" -c "import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print('-' if v is None else f'{v:.3f}')" "$result" "$1"; }
echo "| median round trip of tools/call echo ($calls calls) | ms |"
echo "| --- | --- |"
echo "| direct HTTP (kept-alive connection) | $(field direct_ms) |"
echo "| credential-oauth mcp URL | $(field bridge_ms) |"
echo "| the bridge adds (difference of the medians) | $(field bridge_adds_ms) |"
echo "| median of the per-round differences | $(field paired_difference_ms) |"
echo "| mcp-remote | $(field other_ms) |"
