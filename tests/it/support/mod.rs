//! Shared helpers: run the real binary in a private HOME against the test
//! server, and show command, stdout and stderr when an assertion fails.
//! One file per concern; everything a test needs is re-exported here,
//! except the servers that stand in for a git host, an OCI registry and an
//! attacker, which tests name by module.

pub mod cargo_registry;
pub mod fake_mcp;
pub mod git_server;
pub mod hostile;
pub mod kube_api;
pub mod mcp_sdk;
pub mod module_hosts;
pub mod package_index;
pub mod python_tools;
pub mod registry;
pub mod resource_server;
pub mod tls;

mod browser;
mod env;
mod goauth;
mod http;
mod kernel;
mod links;
mod process;
mod request;
mod session_bus;
mod tools;
mod tty;
mod zip;

pub use oauth_test_server::{Fault, MetadataMode, TestServer};

pub use browser::wait_for_file;
pub use env::{Env, device_env, interactive_provider, mode, private_key_file};
pub use goauth::{GoCredentialSet, go_401_stdin, headers_go_sends, parse_goauth_output};
pub use http::http_get;
pub use kernel::kernel_keyring_available;
pub use process::{BIN, Output, run_command, run_detached_command, spawn_command};
pub use request::git_request;
pub use session_bus::SessionBus;
pub use tools::{find_on_path, go_with_goauth, optional_tool, require_tools, test_path};
