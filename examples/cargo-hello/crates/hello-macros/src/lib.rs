//! Proc-macro crate without external dependencies (no registry here):
//! `#[derive(Describe)]` implements `fn describe() -> &'static str` returning
//! the type's name.

use proc_macro::{TokenStream, TokenTree};

/// Derives `impl $name { pub fn describe() -> &'static str { "$name" } }`.
#[proc_macro_derive(Describe)]
pub fn derive_describe(input: TokenStream) -> TokenStream {
    let mut tokens = input.into_iter();
    let mut name = None;
    while let Some(token) = tokens.next() {
        if let TokenTree::Ident(ident) = &token {
            let word = ident.to_string();
            if word == "struct" || word == "enum" {
                if let Some(TokenTree::Ident(next)) = tokens.next() {
                    name = Some(next.to_string());
                }
                break;
            }
        }
    }
    let name = name.expect("Describe: expected a struct or enum");
    format!("impl {name} {{ pub fn describe() -> &'static str {{ \"{name}\" }} }}")
        .parse()
        .expect("Describe: generated code parses")
}
