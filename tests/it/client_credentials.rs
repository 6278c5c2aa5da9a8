//! Client credentials: a CI job gets a token with no person involved.

use crate::support::*;

#[test]
fn token_command_prints_a_token_the_server_accepts_and_caches_it() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    let first = env.run(&["token", "https://git.example.com/org/repo.git"], "");
    first.ok();
    let token = first.stdout.trim_end().to_string();
    assert!(server.is_active(&token), "{first}");
    assert_eq!(server.count("client_credentials"), 1);

    let second = env.run(&["token", "https://git.example.com/other"], "");
    assert_eq!(second.ok().stdout.trim_end(), token);
    assert_eq!(
        server.count("token"),
        1,
        "second call must be served from the cache"
    );
}
