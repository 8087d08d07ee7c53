//! Library with generated code: the salutation comes from the build script.

include!(concat!(env!("OUT_DIR"), "/greeting.rs"));

/// Builds the greeting for `name` with the generated salutation.
pub fn greet(name: &str) -> hello_core::Greeting {
    hello_core::Greeting { salutation: SALUTATION.to_owned(), name: name.to_owned() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn salutation_is_not_empty() {
        assert!(!super::SALUTATION.is_empty());
    }
}
