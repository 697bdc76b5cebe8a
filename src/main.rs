//! The `stackctl` binary; everything lives in the library.

fn main() -> std::process::ExitCode {
    stackctl::main()
}
