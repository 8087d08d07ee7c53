use std::process::Command;

#[test]
fn line_greets_the_name() {
    let line = hello_cli::line("cargo");
    assert!(line.to_lowercase().starts_with("hello, cargo!"), "{line}");
}

#[test]
fn binary_prints_the_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_hello")).arg("tests").output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), hello_cli::line("tests"));
}
