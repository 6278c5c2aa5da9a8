//! Integration tests: the real binary, run as a process, against the
//! in-memory authorization server on a loopback port.

mod support;

mod client_credentials;
mod configure;
mod git;
mod git_server;
