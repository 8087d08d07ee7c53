//! Core library: formats greetings. Depends on the leaf and the proc-macro.

use hello_macros::Describe;

pub mod style;

/// A greeting addressed to someone.
#[derive(Debug, Describe)]
pub struct Greeting {
    /// The salutation, e.g. "Hello".
    pub salutation: String,
    /// Who is greeted.
    pub name: String,
}

impl Greeting {
    /// Renders the greeting; upper-case with the `shout` feature.
    pub fn render(&self) -> String {
        let text = hello_leaf::punctuate(&format!("{}, {}", self.salutation, self.name));
        style::apply(text, cfg!(feature = "shout"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_joins_and_punctuates() {
        let g = Greeting { salutation: "Hello".into(), name: "cargo".into() };
        let expected = if cfg!(feature = "shout") { "HELLO, CARGO!" } else { "Hello, cargo!" };
        assert_eq!(g.render(), expected);
        assert_eq!(Greeting::describe(), "Greeting");
    }
}
