//! The redacted secret type.

use std::fmt;

/// A secret string (token, password, client secret).
///
/// `Debug` prints `Secret([redacted])`; there is intentionally no `Display`, `Serialize` or
/// `Clone`-into-`String` conversion. Read it with [`Secret::expose`] at the single place that
/// hands it to a protocol.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value, for the one call that needs it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("CANARY-RT-123");
        let printed = format!("{s:?} {:#?}", s);
        assert!(!printed.contains("CANARY"), "a secret leaked through Debug: {printed}");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
    }
}
