#!/bin/sh
# Build credential-oauth in release mode and install it into
# ${PREFIX:-$HOME/.local}/bin, with a symbolic link for each name a caller
# runs it by (the binary picks its protocol from that name, so no shell runs
# between the caller and the helper). Running it again replaces what it
# installed. It changes no git or docker config unless asked with
# --configure-git.
set -eu

usage() {
    cat <<'TXT'
usage: ./install.sh [--configure-git] [--keyring] [--no-static] [--help]

  PREFIX=/usr/local ./install.sh    install into /usr/local/bin instead of ~/.local/bin
  --configure-git                   also add `credential.helper = oauth` to ~/.gitconfig
  --keyring                         also link `keyring` for pip and uv (never by
                                    default: it would shadow a real keyring)
  --no-static                       on x86-64 Linux, build the dynamically linked
                                    binary instead of a static one (host names
                                    then resolve through every NSS module)
TXT
}

configure_git=no
keyring=no
static=yes
for arg in "$@"; do
    case $arg in
    --configure-git) configure_git=yes ;;
    --no-static) static=no ;;
    --keyring) keyring=yes ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $arg" >&2; usage >&2; exit 2 ;;
    esac
done

if ! command -v cargo >/dev/null 2>&1; then
    echo "install.sh: cargo is not on PATH; install Rust (https://rustup.rs or your distribution's rustc and cargo packages) and run ./install.sh again" >&2
    exit 1
fi

cd "$(dirname "$0")"
prefix=${PREFIX:-$HOME/.local}
bin=$prefix/bin

# git and docker start the helper for every request, and a warm `get` is
# mostly process start-up, most of it the dynamic loader's. So on x86-64
# Linux the binary is a static position-independent executable (no loader,
# still placed at a random address): for musl when the toolchain has that
# target and a musl C compiler is at hand (ring compiles C), else for glibc
# when its static library is installed. A build that fails or does not run
# gives way to the next; the last is cargo's plain release build. Rust
# flags go to the target only (--target), never to build scripts and
# proc-macros, which cannot be static.
#
# --workspace: oauth-test-server (the quick start's demo server) is a crate
# of its own in crates/testserver; credential-oauth links none of it.
# Where the executables are is what cargo says it built: CARGO_TARGET_DIR,
# build.target-dir and --target all move them, and a path guessed here
# could name an old binary. Its JSON messages (stdout) name each
# executable; the diagnostics are rendered on stderr as usual.
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
messages=$(mktemp)
trap 'rm -f "$messages"' EXIT
cargo_build() { # cargo build arguments: build, and set $out to where cargo put credential-oauth
    cargo build --release --locked --workspace --bins --message-format=json-render-diagnostics "$@" >"$messages" || return 1
    exe=$(sed -n 's/.*"executable":"\([^"]*\/credential-oauth\)".*/\1/p' "$messages" | tail -n 1)
    [ -n "$exe" ] || { echo "install.sh: cargo named no credential-oauth executable" >&2; return 1; }
    out=$(dirname "$exe")
    # The binary about to be installed is this version, and it runs.
    [ "$("$out/credential-oauth" --version 2>/dev/null)" = "credential-oauth $version" ] || {
        echo "install.sh: $out/credential-oauth is not the credential-oauth $version just built" >&2
        return 1
    }
}
build() { # target [rust flags]: build for target, and run it; $out is where it is
    if [ -n "${2:-}" ]; then
        RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }$2" cargo_build --target "$1"
    else
        cargo_build --target "$1"
    fi
}
host=$(rustc -vV 2>/dev/null | sed -n 's/^host: //p')
kind=
if [ "$static" = yes ] && [ "$host" = x86_64-unknown-linux-gnu ]; then
    musl=x86_64-unknown-linux-musl
    if [ -d "$(rustc --print sysroot)/lib/rustlib/$musl/lib" ] &&
        { command -v x86_64-linux-musl-gcc || command -v musl-gcc; } >/dev/null 2>&1; then
        if build "$musl"; then
            kind="static-pie, musl ($musl)"
        else
            echo "install.sh: the musl build failed; trying static glibc" >&2
        fi
    fi
    # cc finds libc.a only when glibc's static library is installed.
    if [ -z "$kind" ] && [ -f "$(cc -print-file-name=libc.a 2>/dev/null)" ]; then
        if build "$host" "-C target-feature=+crt-static"; then
            kind="static-pie, glibc ($host)"
        else
            echo "install.sh: the static glibc build failed; building the plain one" >&2
        fi
    fi
fi
if [ -z "$kind" ]; then
    cargo_build || exit 1
    kind="cargo's release build"
fi
echo "build: $kind"
mkdir -p "$bin"
for f in "$out/credential-oauth" "$out/oauth-test-server"; do
    # Copy then rename, so a running helper is never overwritten in place.
    name=$(basename "$f")
    cp "$f" "$bin/.$name.new"
    chmod 755 "$bin/.$name.new"
    mv -f "$bin/.$name.new" "$bin/$name"
    echo "installed $bin/$name"
done
# The names callers run from PATH: git, docker and the OCI clients, Bazel;
# pip and uv's `keyring` only when asked.
names="git-credential-oauth docker-credential-oauth bazel-credential-oauth"
[ "$keyring" = yes ] && names="$names keyring"
for name in $names; do
    # A relative link, made beside the target and renamed into place.
    ln -sf credential-oauth "$bin/.$name.new"
    mv -f "$bin/.$name.new" "$bin/$name"
    echo "linked $bin/$name -> credential-oauth"
done
# Completions and the man page, where a prefix keeps them: bash-completion,
# fish and man(1) look there for ~/.local as for /usr/local; zsh needs the
# directory in $fpath.
install_data() { # source destination-directory name
    mkdir -p "$2"
    cp "$1" "$2/.$3.new"
    chmod 644 "$2/.$3.new"
    mv -f "$2/.$3.new" "$2/$3"
    echo "installed $2/$3"
}
install_data share/completions/credential-oauth.bash "$prefix/share/bash-completion/completions" credential-oauth
install_data share/completions/_credential-oauth "$prefix/share/zsh/site-functions" _credential-oauth
install_data share/completions/credential-oauth.fish "$prefix/share/fish/vendor_completions.d" credential-oauth.fish
install_data share/man/credential-oauth.1 "$prefix/share/man/man1" credential-oauth.1
# Terraform and OpenTofu look for credentials helpers in their plugin
# directory, not on PATH: linked there when it exists.
plugins=$HOME/.terraform.d/plugins
if [ -d "$plugins" ]; then
    ln -sf "$bin/credential-oauth" "$plugins/.terraform-credentials-oauth.new"
    mv -f "$plugins/.terraform-credentials-oauth.new" "$plugins/terraform-credentials-oauth"
    echo "linked $plugins/terraform-credentials-oauth -> $bin/credential-oauth"
fi

"$bin/credential-oauth" --version

if [ "$configure_git" = yes ]; then
    if git config --global --get-all credential.helper 2>/dev/null | grep -qx oauth; then
        echo "git already uses credential.helper = oauth"
    else
        git config --global --add credential.helper oauth
        echo "added credential.helper = oauth to your global git config"
    fi
fi

case ":$PATH:" in
*":$bin:"*) ;;
*) echo "note: $bin is not on your PATH; add it, e.g. export PATH=\"$bin:\$PATH\"" ;;
esac

cat <<TXT

Next steps:
  1. Add a provider and log in:  credential-oauth init https://git.example.com/
     (it finds or asks what it needs; README.md#configuration-reference has every setting)
  2. git:     git config --global --add credential.helper oauth
  3. docker:  in ~/.docker/config.json, "credHelpers": { "registry.example.com": "oauth" }
              (or "credsStore": "oauth" for every registry)
  4. scripts: curl -H "Authorization: Bearer \$(credential-oauth token https://api.example.com/)" ...
TXT
