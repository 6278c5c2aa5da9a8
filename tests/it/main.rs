//! Integration tests: the real binary, run as a process, against the
//! in-memory authorization server on a loopback port.

mod support;

mod bazel;
mod cargo;
mod client_assertions;
mod client_credentials;
mod completions;
mod configure;
mod docker;
mod doctor;
mod dpop;
mod git;
mod gitconfig_scope;
mod goauth;
mod hardening;
mod init;
mod interactive;
mod kernel_storage;
mod keyring;
mod kubectl;
mod lifetime;
mod local_hardening;
mod login_page;
mod logout;
mod mcp;
mod mcp_bridge;
mod nobody_to_ask;
mod not_mine;
mod presets;
mod python_keyring;
mod quirks;
mod secrets;
mod step_up;
mod terraform;
mod tls;
mod token_exchange;
mod trust;
mod waiting;
