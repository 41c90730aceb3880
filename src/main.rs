//! The `coopfund` binary; everything lives in the library (see `coopfund::cli`).

/// mimalloc rather than glibc's malloc for every Rust allocation of the service (issue 14: a profile of the
/// close of business on SQLite put glibc's malloc and free at about a third of `serve`'s CPU, most of it
/// consolidating freed blocks; benches/README.md, "The allocator and the COB's reads"). SQLite's own C
/// allocations still go to glibc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    coopfund::cli::main()
}
