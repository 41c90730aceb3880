//! The `coopfund` binary; everything lives in the library (see `coopfund::cli`).

fn main() -> std::process::ExitCode {
    coopfund::cli::main()
}
