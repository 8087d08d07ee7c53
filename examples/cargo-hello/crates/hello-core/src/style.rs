//! Text styles applied to rendered greetings.

/// Upper-cases `text` when `loud` is set.
pub fn apply(text: String, loud: bool) -> String {
    if loud {
        text.to_uppercase()
    } else {
        text
    }
}
