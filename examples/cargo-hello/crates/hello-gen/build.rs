//! Generates `$OUT_DIR/greeting.rs` from `data/greeting.txt`, or from the
//! `HELLO_GREETING` environment variable when it is set.

use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=data/greeting.txt");
    println!("cargo:rerun-if-env-changed=HELLO_GREETING");
    let data = fs::read_to_string("data/greeting.txt").expect("read data/greeting.txt");
    let salutation = env::var("HELLO_GREETING").unwrap_or_else(|_| data.trim().to_owned());
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let code = format!("/// Generated from data/greeting.txt.\npub const SALUTATION: &str = {salutation:?};\n");
    fs::write(out_dir.join("greeting.rs"), code).expect("write greeting.rs");
    println!("cargo::rustc-env=HELLO_GEN_BUILT=1");
}
