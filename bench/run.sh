#!/usr/bin/env bash
# Benchmarks for credential-oauth, side by side with git's own helper and
# Debian's git-credential-oauth, in a throwaway HOME against the bundled
# test server. Prints a Markdown table of medians and ratios.
#
#   bench/run.sh            (needs: hyperfine; optional: git-credential-oauth,
#                            dbus, gnome-keyring, libsecret-tools, strace)
#
# On Debian: apt-get install hyperfine git-credential-oauth dbus gnome-keyring libsecret-tools strace
set -euo pipefail
cd "$(dirname "$0")/.."

# Run the keychain cases in a private D-Bus session with its own keyring.
if [ -z "${BENCH_IN_SESSION:-}" ] && command -v dbus-run-session >/dev/null &&
    command -v gnome-keyring-daemon >/dev/null && command -v secret-tool >/dev/null; then
    export BENCH_IN_SESSION=1
    exec dbus-run-session -- "$0" "$@"
fi

command -v hyperfine >/dev/null || { echo "bench/run.sh: hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
# --workspace: the test server is its own crate (crates/testserver).
cargo build --release --locked --workspace --bins >&2
bin=$PWD/target/release
work=$(mktemp -d)
server_pid=
keyring_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    [ -n "$keyring_pid" ] && kill "$keyring_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

export HOME=$work/home XDG_CONFIG_HOME= XDG_CACHE_HOME= CREDENTIAL_OAUTH_LOG= GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME/.config/credential-oauth"
"$bin/oauth-test-server" --port 0 --refresh --client bench:bench-secret >"$work/server.out" &
server_pid=$!
until [ -s "$work/server.out" ]; do
    kill -0 "$server_pid" 2>/dev/null || { echo "test server did not start" >&2; exit 1; }
    sleep 0.05
done
issuer=$(sed -n '1s/^issuer: //p' "$work/server.out")

write_config() { # storage
    cat >"$HOME/.config/credential-oauth/config.toml" <<TOML
storage = "$1"

[[provider]]
name = "bench"
url = "https://git.example.com/"
issuer = "$issuer"
client_id = "bench"
client_secret = "bench-secret"
grant = "client_credentials"
TOML
}
printf 'protocol=https\nhost=git.example.com\npath=org/repo.git\n\n' >"$work/request"
co=$bin/credential-oauth

median() { # json-file -> median seconds of the first result
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$1"
}
time_cmd() { # name shell-command
    # -N: no intermediate shell of hyperfine's own; each case runs through the
    # same `sh -c` (needed for the stdin redirect), so ratios stay fair.
    hyperfine -N --warmup 20 --runs "${RUNS:-300}" --export-json "$work/$1.json" "sh -c '$2'" >/dev/null
    median "$work/$1.json"
}
row() { # label seconds baseline-seconds
    awk -v l="$1" -v s="$2" -v b="$3" 'BEGIN { printf "| %s | %.2f ms | %.2f× |\n", l, s * 1000, s / b }'
}

# --- warm get, file backend --------------------------------------------------
write_config file
token=$("$co" token https://git.example.com/)
printf 'https://oauth2:%s@git.example.com\n' "$token" >"$HOME/.git-credentials"
chmod 600 "$HOME/.git-credentials"

store=$(time_cmd store "git credential-store get <$work/request")
ours_file=$(time_cmd ours_file "$co get <$work/request")
echo
echo "| case | median | ratio |"
echo "| --- | --- | --- |"
row "git credential-store get (baseline)" "$store" "$store"
row "credential-oauth get, warm, file" "$ours_file" "$store"
if command -v git-credential-oauth >/dev/null; then
    theirs=$(time_cmd theirs "git-credential-oauth get <$work/request")
    row "Debian git-credential-oauth get, nothing configured" "$theirs" "$store"
fi

# --- warm get, keychain --------------------------------------------------------
if [ -n "${BENCH_IN_SESSION:-}" ]; then
    eval "$(printf 'bench\n' | gnome-keyring-daemon --unlock --components=secrets)"
    keyring_pid=${GNOME_KEYRING_PID:-}
    export GNOME_KEYRING_CONTROL
    write_config keyring
    rm -rf "$HOME/.cache/credential-oauth/tokens"/*.json
    if "$co" token https://git.example.com/ >/dev/null 2>"$work/keyring.err"; then
        key=$("$co" status | sed -n 's/^ *key: *//p' | head -1)
        lookup=$(time_cmd lookup "secret-tool lookup service credential-oauth account $key")
        ours_keyring=$(time_cmd ours_keyring "$co get <$work/request")
        row "secret-tool lookup (keychain baseline)" "$lookup" "$lookup"
        row "credential-oauth get, warm, keychain" "$ours_keyring" "$lookup"
        if command -v strace >/dev/null; then
            strace -f -qq -e trace=clone,clone3,socket -o "$work/strace.keychain" \
                "$co" get <"$work/request" >/dev/null
            keychain_note="warm get (keychain): $(grep -cE '^[0-9 ]*clone3?\(' "$work/strace.keychain" || true) threads started, $(grep -cE '^[0-9 ]*socket\(' "$work/strace.keychain" || true) sockets opened (strace)"
        fi
    else
        echo "keychain cases skipped: $(head -1 "$work/keyring.err")" >&2
    fi
    write_config file
    "$co" token https://git.example.com/ >/dev/null   # warm the file store again
else
    echo "keychain cases skipped: dbus-run-session, gnome-keyring or secret-tool missing" >&2
fi

# --- what a warm get does --------------------------------------------------------
echo
[ -n "${keychain_note:-}" ] && echo "$keychain_note"
if command -v strace >/dev/null; then
    strace -f -qq -e trace=clone,clone3,fork,vfork,socket,connect -o "$work/strace" \
        "$co" get <"$work/request" >/dev/null
    threads=$(grep -cE '^[0-9 ]*(clone|clone3|fork|vfork)\(' "$work/strace" || true)
    sockets=$(grep -cE '^[0-9 ]*socket\(' "$work/strace" || true)
    echo "warm get (file): $threads threads or processes started, $sockets sockets opened (strace)"
fi
rss=$( { /usr/bin/time -f '%M' sh -c "exec $co get <$work/request" >/dev/null; } 2>&1 | tail -1)
echo "warm get (file): peak RSS ${rss} KiB"
echo "release binary: $(stat -c %s "$co") bytes"

# --- cold get: requests per grant -------------------------------------------------
rm -rf "$HOME/.cache/credential-oauth/metadata"
rm -f "$HOME/.cache/credential-oauth/tokens"/*.json
"$co" -v token https://git.example.com/ 2>"$work/cold1" >/dev/null
rm -f "$HOME/.cache/credential-oauth/tokens"/*.json
"$co" -v token https://git.example.com/ 2>"$work/cold2" >/dev/null
echo "cold get: $(grep -c 'discovery: GET' "$work/cold1" || true) discovery and $(grep -c 'POST .*grant_type' "$work/cold1" || true) token requests;" \
    "a second cold get within 24 h: $(grep -c 'discovery: GET' "$work/cold2" || true) discovery and $(grep -c 'POST .*grant_type' "$work/cold2" || true) token requests"

# --- 50 parallel gets of an expired token -------------------------------------------
expire() {
    python3 - "$HOME/.cache/credential-oauth/tokens" <<'PY'
import json, os, sys, time
d = sys.argv[1]
for f in os.listdir(d):
    if f.endswith(".json") and len(f) == 37:
        p = os.path.join(d, f)
        t = json.load(open(p))
        if "access_token" in t:
            t["expires_at"] = int(time.time()) - 10
            json.dump(t, open(p, "w"))
PY
}
now_ns() { date +%s%N; }
fifty() { # run 50 gets at once; prints elapsed ns
    local start pids=() i
    start=$(now_ns)
    for i in $(seq 50); do
        "$co" -v token https://git.example.com/ >"$work/par.$i.out" 2>"$work/par.$i.err" &
        pids+=($!)
    done
    wait "${pids[@]}"
    echo $(( $(now_ns) - start ))
}
"$co" token https://git.example.com/ >/dev/null
warm50=$(fifty)
expire
start=$(now_ns); "$co" -v token https://git.example.com/ 2>"$work/one" >/dev/null; single=$(( $(now_ns) - start ))
expire
parallel=$(fifty)
refreshes=$(cat "$work"/par.*.err | grep -c 'grant_type=' || true)
distinct=$(sort -u "$work"/par.*.out | wc -l)
awk -v s="$single" -v p="$parallel" -v w="$warm50" -v r="$refreshes" -v d="$distinct" 'BEGIN {
    printf "expired token: one get that refreshes %.1f ms; 50 parallel gets %.1f ms (%.2f× the single one), %d token requests, %d distinct tokens printed\n", s / 1e6, p / 1e6, p / s, r, d
    printf "  for scale: 50 parallel warm gets (no refresh, only process start-up on %d cores) take %.1f ms; the refresh adds %.1f ms (%.2f× a single refresh)\n", '"$(nproc)"', w / 1e6, (p - w) / 1e6, (p - w) / s }'
