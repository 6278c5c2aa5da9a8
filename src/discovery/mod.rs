//! Where the endpoints are: RFC 8414 / OpenID Connect authorization-server
//! metadata ([`authorization_server`]) and, from a git server's challenge,
//! RFC 9728 protected-resource metadata ([`protected_resource`]).

pub mod authorization_server;
pub mod protected_resource;
