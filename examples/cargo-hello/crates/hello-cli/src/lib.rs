//! The binary's logic, as a library so integration tests can call it.

use hello_macros::Describe;

/// The program, described by the proc-macro.
#[derive(Describe)]
pub struct Hello;

/// The line the binary prints for `name`.
pub fn line(name: &str) -> String {
    format!("{} ({}{})", hello_gen::greet(name).render(), Hello::describe(), hello_leaf::mark())
}
