//! `credential-oauth help [COMMAND]` and `COMMAND --help`: one text per
//! command a person runs, each with examples. The overview is
//! [`USAGE`].

use super::write_out;
use crate::error::Result;
use std::io::Write;

/// The overview, for `help`, `-h` and `--help`.
pub const USAGE: &str = "\
usage: credential-oauth [-v] <command> [args]

OAuth 2.0 access tokens for git, docker, cargo, kubectl, pip, uv, Bazel, Terraform,
Go, MCP clients (AI agents' remote tool servers) and scripts.

git credential helper (reads the request on stdin):
  get | store | erase

kubectl exec credential plugin (kubeconfig users[].user.exec, reads
KUBERNETES_EXEC_INFO, prints an ExecCredential):
  kubernetes [URL]   the cluster URL, else spec.cluster.server
                     (provideClusterInfo: true)

docker credential helper: run as docker-credential-oauth (a symlink, or
helpers/docker-credential-oauth) with get | store | erase | list | version

cargo credential provider: credential-provider = [\"credential-oauth\"] in
cargo's config; cargo runs credential-oauth --cargo-plugin

pip and uv (--keyring-provider subprocess): run as keyring (a symlink that
install.sh --keyring makes) with [--mode creds] [--output json]
get SERVICE [USERNAME] | set SERVICE USERNAME | del SERVICE [USERNAME]

Bazel credential helper (--credential_helper=bazel-credential-oauth): run as
bazel-credential-oauth get, reads {\"uri\":…} on stdin

Go (>= 1.24) GOAUTH command: GOAUTH=\"credential-oauth goauth\"
  goauth [URL]       credential sets for providers holding a fresh token;
                     with URL (and Go's 4xx response on stdin), the set for
                     the provider serving URL

Terraform / OpenTofu credentials helper: credentials_helper \"oauth\" {} in
the CLI config, and this binary as terraform-credentials-oauth in
~/.terraform.d/plugins; Terraform runs it with get | store | forget HOST

MCP clients (AI agents' remote tool servers, per the MCP authorization spec):
  headers [--method METHOD] URL
                print {\"Authorization\":\"Bearer <token>\"} for URL (a headers helper);
                for a dpop = true provider, with --method, a DPoP token and proof
  mcp URL       a stdio server that bridges to the Streamable HTTP server at URL

commands:
  token URL     print the access token for URL
  token --header URL
                print \"Bearer <token>\", an Authorization header's value
                (cargo:token-from-stdout credential-oauth token --header {index_url})
  init [URL] [--preset NAME] [--issuer URL] [--client-id ID] [--no-login] …
                add a provider to the config file and log in (asks on the
                terminal what it cannot find out)
  login URL     run the grant now, even if a token is cached
  logout URL    forget the cached token for URL and revoke it at the server
  logout --all  forget (and revoke) every cached token of every provider
  status        list providers and their cached tokens (no secrets; -v: cache keys)
  doctor        check the set-up: config, discovery, keychain, links, git and
                docker config, clock, tokens; exits 1 on a problem
  configure [--git] [--docker[=REGISTRY]]
                add this helper to git's global config (the default) and/or
                docker's config.json (credsStore, or credHelpers[REGISTRY])
  unconfigure [--git] [--docker[=REGISTRY]]
                remove it again

  help [COMMAND]
                this text, or COMMAND's help with examples

options:
  -v, --verbose   diagnostics on stderr (also CREDENTIAL_OAUTH_LOG=debug)
  -h, --help      this text; after a command, that command's help
  -V, --version   the version

config: $CREDENTIAL_OAUTH_CONFIG, else $XDG_CONFIG_HOME/credential-oauth/config.toml,
        else ~/.config/credential-oauth/config.toml
";

/// The commands that have a help text, as `help` lists them.
pub const TOPICS: &[&str] = &[
    "token",
    "login",
    "init",
    "logout",
    "status",
    "doctor",
    "configure",
    "unconfigure",
    "kubernetes",
    "goauth",
    "headers",
    "mcp",
    "get",
    "help",
];

/// The topic for a command word: git's three verbs share one text.
pub fn topic(word: &str) -> Option<&'static str> {
    match word {
        "store" | "erase" => Some("get"),
        w => TOPICS.iter().find(|t| **t == w).copied(),
    }
}

/// `help [COMMAND]`: the overview, or one command's text.
pub fn run(topic: Option<&str>, stdout: &mut dyn Write) -> Result<()> {
    write_out(stdout, topic.map_or(USAGE, text))
}

/// `--version`.
pub fn version(stdout: &mut dyn Write) -> Result<()> {
    write_out(
        stdout,
        &format!("credential-oauth {}\n", env!("CARGO_PKG_VERSION")),
    )
}

/// The help text of a topic from [`topic`].
pub fn text(topic: &str) -> &'static str {
    match topic {
        "token" => TOKEN,
        "login" => LOGIN,
        "init" => INIT,
        "logout" => LOGOUT,
        "status" => STATUS,
        "doctor" => DOCTOR,
        "configure" | "unconfigure" => CONFIGURE,
        "kubernetes" => KUBERNETES,
        "goauth" => GOAUTH,
        "headers" => HEADERS,
        "mcp" => MCP,
        "get" => GIT,
        _ => HELP,
    }
}

const TOKEN: &str = "\
usage: credential-oauth token [--header] URL

Print the access token for URL on stdout: the cached one while it is
fresh, else a refreshed one, else one from a new login.

  --header   print \"Bearer <token>\", the value of an Authorization header

examples:
  curl -H \"Authorization: Bearer $(credential-oauth token https://git.example.com/)\" \\
       https://git.example.com/api/v4/user
  cargo:token-from-stdout credential-oauth token --header {index_url}
";

const LOGIN: &str = "\
usage: credential-oauth login URL

Log in to the provider serving URL now, whatever the cache holds: the
browser, else a device code on the terminal. A user name in the URL names
the account.

examples:
  credential-oauth login https://git.example.com/
  credential-oauth login https://alice@git.example.com/
";

const INIT: &str = "\
usage: credential-oauth init [URL] [--preset NAME] [--issuer URL] [--client-id ID]
                             [--client-secret-file PATH] [--grant GRANT]
                             [--scope SCOPE]... [--name NAME] [--no-login]

Add a provider for URL to the config file (other entries, comments and
order kept) and log in. On a terminal it asks only what it cannot find out:
the issuer, and a client id where the server offers no registration; the
flags answer the same questions for scripts. github.com, gitlab.com,
bitbucket.org and codeberg.org take their preset without asking.

examples:
  credential-oauth init https://gitlab.example.com/ --preset gitlab --client-id 0123abcd
  credential-oauth init https://git.example.com/ --issuer https://auth.example.com
";

const LOGOUT: &str = "\
usage: credential-oauth logout URL
       credential-oauth logout --all

Forget the cached token for URL and revoke it at the server where the
server offers revocation (RFC 7009). Providers with the same issuer, client
and scopes share one token: every one of them is named.

  --all   every cached token of every provider, including providers found
          by discovery

examples:
  credential-oauth logout https://git.example.com/
  credential-oauth logout https://alice@git.example.com/
  credential-oauth logout --all
";

const STATUS: &str = "\
usage: credential-oauth [-v] status

List the providers (from the config and found by discovery) and their
cached tokens: account, scopes, grant, when the token expires, whether it
can be refreshed and where it is stored. Never a secret. With -v, the
cache key too.

example:
  credential-oauth status
";

const DOCTOR: &str = "\
usage: credential-oauth doctor

Check the set-up, one line per finding (ok, warning or problem, with the
fix): the config file; each provider's discovery and endpoints; the
keychain; the links callers run (git-credential-oauth,
docker-credential-oauth, bazel-credential-oauth, keyring, Terraform's
plugin) and that they point at this binary; git's credential.helper and
docker's config.json; the clock against the providers' servers; and each
provider's cached token. Exits 1 when it finds a problem.

example:
  credential-oauth doctor
";

const CONFIGURE: &str = "\
usage: credential-oauth configure [--git] [--docker[=REGISTRY]]
       credential-oauth unconfigure [--git] [--docker[=REGISTRY]]

Add this helper to git's global config (credential.helper = oauth, the
default) and/or to docker's config.json (credsStore, or credHelpers for one
REGISTRY); unconfigure removes it again. Both say what changed.

examples:
  credential-oauth configure
  credential-oauth configure --docker=registry.example.com
  credential-oauth unconfigure --git --docker
";

const KUBERNETES: &str = "\
usage: credential-oauth kubernetes [URL]

kubectl's exec credential plugin: reads KUBERNETES_EXEC_INFO and prints an
ExecCredential. URL is the cluster's, else spec.cluster.server
(provideClusterInfo: true).

example (kubeconfig):
  users:
  - name: corp
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: credential-oauth
        args: [kubernetes, https://k8s.example.com:6443]
        interactiveMode: IfAvailable
";

const GOAUTH: &str = "\
usage: credential-oauth goauth [URL]

Go's GOAUTH command (Go >= 1.24). Without URL: the credential sets of the
providers holding a fresh token; with URL (and Go's 4xx response on stdin):
the set for the provider serving URL.

example:
  GOAUTH=\"credential-oauth goauth\" go mod download
";

const HEADERS: &str = "\
usage: credential-oauth headers [--method METHOD] URL

The headers a request to URL needs, as one JSON object:
{\"Authorization\":\"Bearer <token>\"}, the form MCP clients' headers
helpers read. A configured provider covering URL serves it; else the
server's 401 names its authorization server (RFC 9728), and the token is
bound to URL (RFC 8707). No token: exit 1, one line naming
`credential-oauth login URL`, nothing on stdout.

  --method METHOD  for a dpop = true provider: {\"Authorization\":\"DPoP <token>\",
                   \"DPoP\":\"<proof>\"}, a fresh proof for one METHOD request to
                   URL (RFC 9449); such a provider's token needs it

examples:
  \"headersHelper\": \"credential-oauth headers https://mcp.example.com/mcp\"
  credential-oauth headers --method POST https://api.example.com/v1/jobs
";

const MCP: &str = "\
usage: credential-oauth mcp URL

A stdio MCP server that forwards every JSON-RPC message to the Streamable
HTTP server at URL with a token, and writes each message of its answers as
one line on stdout. Tokens as for `headers`; a 401 or 403
insufficient_scope gets one new token and one retry; with nobody to ask, a
JSON-RPC error naming `credential-oauth login URL`.

example:
  {\"command\": \"credential-oauth\", \"args\": [\"mcp\", \"https://mcp.example.com/mcp\"]}
";

const GIT: &str = "\
usage: credential-oauth get | store | erase
       git-credential-oauth get | store | erase

git's credential helper protocol: the request on stdin as key=value lines,
the answer on stdout. git runs it; people run `configure` instead.

examples:
  git config --global --add credential.helper oauth
  printf 'protocol=https\\nhost=git.example.com\\n\\n' | credential-oauth get
";

const HELP: &str = "\
usage: credential-oauth help [COMMAND]
       credential-oauth COMMAND --help

The overview, or one command's help with examples.

example:
  credential-oauth help logout
";
