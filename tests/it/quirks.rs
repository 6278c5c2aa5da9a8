//! Server quirks seen in the field (README "Servers seen in the field"):
//! each test bends the test server into one and runs the real binary.

use crate::support::*;

const URL: &str = "https://git.example.com/";

fn token_of(env: &Env) -> String {
    env.run(&["token", URL], "")
        .ok()
        .stdout
        .trim_end()
        .to_string()
}

#[test]
fn rfc8414_metadata_appended_to_the_issuer_path_is_found() {
    let server = TestServer::start().unwrap();
    server.set_issuer_path("/tenant");
    server.set_metadata_mode(MetadataMode::Rfc8414PathAppended);
    let env = Env::new();
    env.client_credentials_config(&server, URL);
    let token = token_of(&env);
    assert!(server.is_active(&token));
    assert_eq!(server.count("metadata"), 1, "the RFC 8414 place first");
    assert_eq!(server.count("metadata_appended"), 1);
    assert_eq!(server.count("oidc"), 0, "the OAuth document wins");
}
