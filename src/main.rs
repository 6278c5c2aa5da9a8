//! `credential-oauth`: see `credential_oauth::frontend`. This file wires the
//! process to `run`, with the real person ([`Terminal`]), and turns its
//! outcome into an exit code, the only place that does.

use credential_oauth::prompt::Terminal;

fn main() {
    // Before anything else, and before any secret is read (DESIGN.md:
    // "no core file is written").
    credential_oauth::secret::protect_process_memory();
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // Not locked here: the MCP bridge reads and writes them from threads
    // of its own.
    let outcome = credential_oauth::frontend::run(
        &args,
        &mut std::io::stdin(),
        &mut std::io::stdout(),
        &Terminal,
    );
    let code = match &outcome.result {
        Ok(()) => 0,
        Err(e) => {
            if outcome.protocol.reports(e) {
                eprintln!("credential-oauth: {e}");
                if credential_oauth::log::verbose() {
                    for cause in e.causes() {
                        eprintln!("credential-oauth:   caused by: {cause}");
                    }
                }
            }
            outcome.protocol.exit_code(e)
        }
    };
    std::process::exit(code);
}
