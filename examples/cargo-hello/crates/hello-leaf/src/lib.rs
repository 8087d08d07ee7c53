//! Leaf library: punctuation helpers, depends on nothing.

/// The mark appended to every greeting.
pub fn mark() -> &'static str {
    "!"
}

/// Appends [`mark`] to `text`.
pub fn punctuate(text: &str) -> String {
    format!("{text}{}", mark())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuate_appends_mark() {
        assert_eq!(punctuate("hi"), "hi!");
    }
}
