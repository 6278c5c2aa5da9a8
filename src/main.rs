//! `credential-oauth`: see `credential_oauth::frontend`. This file only wires the
//! process to `run` and turns its answer into an exit code.

fn main() {
    // Before anything else, and before any secret is read (DESIGN.md:
    // "no core file is written").
    credential_oauth::secret::protect_process_memory();
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = credential_oauth::frontend::run(
        &args,
        &mut std::io::stdin().lock(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr(),
    );
    std::process::exit(code);
}
