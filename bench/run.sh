#!/usr/bin/env bash
# Benchmarks for credential-oauth, side by side with git's own helper and
# Debian's git-credential-oauth, in a throwaway HOME against the bundled
# test server. Measures the build ./install.sh makes, installed into a
# throwaway prefix, through the names callers run. Prints Markdown tables.
#
#   bench/run.sh            RUNS=N: runs per case (default 300)
#
# Needs hyperfine and python3; optional: valgrind (instruction counts),
# strace (threads), dbus, gnome-keyring and libsecret-tools (keychain
# cases), Debian's git-credential-oauth (called by its full path,
# /usr/bin/git-credential-oauth, or $BENCH_DEBIAN_HELPER).
#
# On Debian: apt-get install hyperfine valgrind strace dbus gnome-keyring libsecret-tools git-credential-oauth
#
# Wall time, two ways, each over all the cases of a table in one session:
# hyperfine (-N; every command through the same `sh -c`, as hyperfine 1.15
# cannot feed stdin from a file), and bench/paired.py, which runs the cases
# in rotating order round after round with no shell in between and takes
# the median of the per-round ratios. Instructions: callgrind, one get,
# children included.
set -Eeuo pipefail
trap 'echo "bench/run.sh: line $LINENO failed" >&2' ERR
cd "$(dirname "$0")/.."
repo=$PWD

# Run the keychain cases in a private D-Bus session with its own keyring.
if [ -z "${BENCH_IN_SESSION:-}" ] && command -v dbus-run-session >/dev/null &&
    command -v gnome-keyring-daemon >/dev/null && command -v secret-tool >/dev/null; then
    export BENCH_IN_SESSION=1
    exec dbus-run-session -- "$0" "$@"
fi

for tool in hyperfine python3; do
    command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is needed" >&2; exit 1; }
done
runs=${RUNS:-300}
work=$(mktemp -d)
server_pid=
keyring_pid=
kernel_cfg=
cleanup() {
    # The kernel keeps storage = "kernel" entries after the throwaway HOME
    # is gone: removed while the server can still take the revocation.
    if [ -n "$kernel_cfg" ] && [ -x "${co:-}" ]; then
        CREDENTIAL_OAUTH_CONFIG=$kernel_cfg "$co" logout --all >/dev/null 2>&1 || true
    fi
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    [ -n "$keyring_pid" ] && kill "$keyring_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# cargo and rustup keep finding their homes once HOME is the throwaway one.
export CARGO_HOME=${CARGO_HOME:-$HOME/.cargo} RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
export HOME=$work/home XDG_CONFIG_HOME= XDG_CACHE_HOME= CREDENTIAL_OAUTH_LOG= GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME/.config/credential-oauth"

# --- the build ./install.sh makes ----------------------------------------------
PREFIX=$work/prefix ./install.sh >"$work/install.log" 2>&1 || {
    cat "$work/install.log" >&2
    exit 1
}
bin=$work/prefix/bin
co=$bin/credential-oauth
echo "build: $(sed -n 's/^build: //p' "$work/install.log"), $(stat -c %s "$co") bytes"

"$bin/oauth-test-server" --port 0 --refresh --client bench:bench-secret >"$work/server.out" &
server_pid=$!
until [ -s "$work/server.out" ]; do
    kill -0 "$server_pid" 2>/dev/null || { echo "test server did not start" >&2; exit 1; }
    sleep 0.05
done
issuer=$(sed -n '1s/^issuer: //p' "$work/server.out")

write_config() { # storage [file]
    cat >"${2:-$HOME/.config/credential-oauth/config.toml}" <<TOML
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
# git runs helpers from the repository it works in, with the helper in
# [credential] for every host (README "git").
git init -q "$work/repo"
git config --global credential.helper oauth
cd "$work/repo"
printf 'protocol=https\nhost=git.example.com\npath=org/repo.git\n\n' >"$work/request"
printf 'protocol=https\nhost=not-mine.example.org\npath=org/repo.git\n\n' >"$work/not-mine"

# --- measuring -------------------------------------------------------------------
# A case is a line: label, stdin file, argv (tab-separated; NAME=VALUE words
# first set the environment).
case_line() { # label stdin argv...
    local IFS=$'\t'
    echo "$*"
}
# A binary just written (install.sh's copy) starts faster than one read
# back from disk, as git's was (here 15-20 % for ours: the page cache holds
# a fresh file in larger pieces). So every executable measured is first
# dropped from the page cache, to be read back from disk like the others.
evict() { # file...
    python3 - "$@" <<'PY'
import os, sys
for path in sys.argv[1:]:
    fd = os.open(os.path.realpath(path), os.O_RDONLY)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
PY
}
session() { # name: wall time of the cases in $work/name.cases, two ways
    local name=$1 label stdin argv cmds=() exes=() words
    while IFS=$'\t' read -r label stdin argv; do
        cmds+=("sh -c '${argv//$'\t'/ } <$stdin'")
        read -r -a words <<<"${argv//$'\t'/ }"
        while [[ ${words[0]} == [A-Z]*=* ]]; do words=("${words[@]:1}"); done
        exes+=("${words[0]}")
    done <"$work/$name.cases"
    evict "${exes[@]}"
    hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/$name.json" "${cmds[@]}" >/dev/null
    python3 - "$work/$name.json" >"$work/$name.hyperfine" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
for r in results:
    print(f"{r['median'] * 1000:.3f}\t{r['median'] / results[0]['median']:.3f}")
PY
    python3 "$repo/bench/paired.py" "$runs" "$work/$name.cases" >"$work/$name.paired"
}
instructions() { # stdin argv...: instructions of one run, children included
    local stdin=$1
    shift
    command -v valgrind >/dev/null || { echo "n/a"; return; }
    # valgrind cannot run every program (Go's runtime): then "n/a".
    { valgrind --tool=callgrind --trace-children=yes --callgrind-out-file=/dev/null \
        env "$@" <"$stdin" 2>&1 >/dev/null || true; } |
        awk '/Collected :/ { s += $NF; n++ } /Valgrind.*(crash|abort)|Aborted/ { bad = 1 }
             END { if (bad || !n) print "n/a"; else print s }'
}
threads() { # stdin argv...: threads and processes started (strace)
    local stdin=$1
    shift
    command -v strace >/dev/null || { echo "n/a"; return; }
    env "$@" <"$stdin" >/dev/null 2>&1 || true # warm
    strace -f -qq -e trace=clone,clone3,fork,vfork -o "$work/strace" env "$@" <"$stdin" >/dev/null
    # env execs the command without a clone: every line counted is its own.
    grep -cE '^[0-9 ]*(clone|clone3|fork|vfork)\(' "$work/strace" || true
}
table() { # name: a row for each case of a session, ratios to the first
    local name=$1
    echo
    echo "| case | median (hyperfine) | ratio | median (paired) | ratio | instructions | ratio |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    paste "$work/$name.cases" "$work/$name.hyperfine" "$work/$name.paired" "$work/$name.instr" |
        awk -F'\t' 'function commas(n,  s) {
                for (s = ""; length(n) > 3; n = substr(n, 1, length(n) - 3)) s = "," substr(n, length(n) - 2) s
                return n s
            }
            {
            label = $1; n = NF
            # the argv has a variable number of fields: count from the end
            instr = $n; pratio = $(n - 1); pmed = $(n - 2); hratio = $(n - 4); hmed = $(n - 5)
            if (NR == 1) base = instr
            iratio = (instr ~ /^[0-9]+$/ && base ~ /^[0-9]+$/) ? sprintf("%.2f×", instr / base) : ""
            ishow = (instr ~ /^[0-9]+$/) ? commas(instr) : instr
            printf "| %s | %.2f ms | %.2f× | %.2f ms | %.2f× | %s | %s |\n", label, hmed, hratio, pmed, pratio, ishow, iratio
        }'
}
count_instructions() { # name: instructions of each case of a session
    local name=$1 label stdin argv
    while IFS=$'\t' read -r label stdin argv; do
        # shellcheck disable=SC2086 # argv is the words of the command
        instructions "$stdin" ${argv//$'\t'/ }
    done <"$work/$name.cases" >"$work/$name.instr"
}

# --- warm get, file store --------------------------------------------------------
write_config file
token=$("$co" token https://git.example.com/)
printf 'https://oauth2:%s@git.example.com\n' "$token" >"$HOME/.git-credentials"
chmod 600 "$HOME/.git-credentials"
git=$(command -v git)
kernel_cfg=$work/kernel.toml
write_config kernel "$kernel_cfg"
kernel_skip=
if ! CREDENTIAL_OAUTH_CONFIG=$kernel_cfg "$co" token https://git.example.com/ >/dev/null 2>"$work/kernel.err"; then
    kernel_skip=$(head -1 "$work/kernel.err")
fi
# Debian's helper has our git name: called by its full path, and never
# when that path leads to this project's binary.
debian=${BENCH_DEBIAN_HELPER:-/usr/bin/git-credential-oauth}
if [ ! -x "$debian" ] || [ "$(basename "$(readlink -f "$debian")")" = credential-oauth ]; then
    debian=
fi
{
    case_line "git credential-store get (baseline)" "$work/request" "$git" credential-store get
    case_line "git-credential-oauth get, warm, file (what git runs)" "$work/request" "$bin/git-credential-oauth" get
    case_line "credential-oauth get, warm, file" "$work/request" "$co" get
    case_line "git-credential-oauth get, not mine" "$work/not-mine" "$bin/git-credential-oauth" get
    if [ -n "$debian" ]; then
        case_line "Debian git-credential-oauth get, nothing configured" "$work/request" "$debian" get
    fi
    if [ -z "$kernel_skip" ]; then
        case_line "credential-oauth get, warm, storage = \"kernel\"" "$work/request" \
            "CREDENTIAL_OAUTH_CONFIG=$kernel_cfg" "$co" get
    fi
} >"$work/file.cases"
session file
count_instructions file
table file
[ -n "$debian" ] || echo "(Debian's git-credential-oauth is not installed: its case is left out)"
[ -z "$kernel_skip" ] || echo "storage = \"kernel\" case skipped: $kernel_skip"

# --- warm get, keychain ----------------------------------------------------------
threads_keychain=
if [ -n "${BENCH_IN_SESSION:-}" ]; then
    eval "$(printf 'bench\n' | gnome-keyring-daemon --unlock --components=secrets)"
    keyring_pid=${GNOME_KEYRING_PID:-}
    export GNOME_KEYRING_CONTROL
    keyring_cfg=$work/keyring.toml
    write_config keyring "$keyring_cfg"
    if CREDENTIAL_OAUTH_CONFIG=$keyring_cfg "$co" login https://git.example.com/ >/dev/null 2>"$work/keyring.err"; then
        key=$(CREDENTIAL_OAUTH_CONFIG=$keyring_cfg "$co" -v status | sed -n 's/^ *key: *//p' | head -1)
        {
            case_line "secret-tool lookup (keychain baseline)" /dev/null "$(command -v secret-tool)" lookup service credential-oauth account "$key"
            case_line "credential-oauth get, warm, keychain" "$work/request" "CREDENTIAL_OAUTH_CONFIG=$keyring_cfg" "$co" get
            case_line "credential-oauth get, warm, file" "$work/request" "$co" get
        } >"$work/keychain.cases"
        session keychain
        count_instructions keychain
        table keychain
        threads_keychain=$(threads "$work/request" "CREDENTIAL_OAUTH_CONFIG=$keyring_cfg" "$co" get)
        awk -F'\t' 'NR == 2 { k = $2 } NR == 3 { f = $2 }
            END { printf "warm keychain get / warm file get: %.2f× (paired medians; goal ≤ 2×)\n", k / f }' "$work/keychain.paired"
    else
        echo "keychain cases skipped: $(head -1 "$work/keyring.err")"
    fi
else
    echo "keychain cases skipped: dbus-run-session, gnome-keyring or secret-tool missing"
fi

# --- what a warm get does --------------------------------------------------------
echo
line="threads or processes started by a warm get (strace): file $(threads "$work/request" "$co" get)"
[ -n "$threads_keychain" ] && line="$line, keychain $threads_keychain"
[ -z "$kernel_skip" ] && line="$line, kernel $(threads "$work/request" "CREDENTIAL_OAUTH_CONFIG=$kernel_cfg" "$co" get)"
echo "$line"
rss=$( { /usr/bin/time -f '%M' sh -c "exec $bin/git-credential-oauth get <$work/request" >/dev/null; } 2>&1 | tail -1)
echo "warm get (file): peak RSS ${rss} KiB"

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
