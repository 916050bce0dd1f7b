//! [`ClientId`]: a Client Identifier as the broker's tables hold it.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// The longest identifier kept inline.
const INLINE: usize = 22;

/// A Client Identifier, the key of a session in every table of the
/// broker: up to 22 bytes inline, with no allocation (most identifiers,
/// and all of MQTT 3.1's 23-character ones but the longest), a longer one
/// shared. Inline, an idle session's identifier is not a small allocation
/// of its own among those its connection freed (which would keep their
/// pages from being returned to the system). Compares, hashes and borrows
/// as its `str`.
#[derive(Clone)]
pub struct ClientId(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Shared(Arc<str>),
}

impl From<&str> for ClientId {
    fn from(s: &str) -> Self {
        if s.len() > INLINE {
            return ClientId(Repr::Shared(Arc::from(s)));
        }
        let mut bytes = [0; INLINE];
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        ClientId(Repr::Inline {
            len: s.len() as u8,
            bytes,
        })
    }
}

impl Deref for ClientId {
    type Target = str;

    fn deref(&self) -> &str {
        match &self.0 {
            Repr::Inline { len, bytes } => {
                // Copied from a `str` in `from`, whole.
                std::str::from_utf8(&bytes[..usize::from(*len)]).expect("copied from a str")
            }
            Repr::Shared(s) => s,
        }
    }
}

impl Borrow<str> for ClientId {
    fn borrow(&self) -> &str {
        self
    }
}

impl PartialEq for ClientId {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for ClientId {}

impl PartialEq<str> for ClientId {
    fn eq(&self, other: &str) -> bool {
        &**self == other
    }
}

impl Hash for ClientId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl PartialOrd for ClientId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ClientId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Short and long identifiers read back whole, compare and hash as
    /// their `str` (a table keyed by them finds them by `&str`), and only
    /// those over 22 bytes allocate.
    #[test]
    fn inline_and_shared_behave_as_their_str() {
        let long = "a-client-identifier-of-forty-bytes-x-y-z";
        let ids = ["", "a", "idle-12345-9999", "exactly-22-bytes-long!", long];
        let mut table = HashMap::new();
        for (i, s) in ids.iter().enumerate() {
            let id = ClientId::from(*s);
            assert_eq!(&*id, *s);
            assert_eq!(id.to_string(), *s);
            assert_eq!(format!("{id:?}"), format!("{s:?}"));
            assert_eq!(matches!(id.0, Repr::Shared(_)), s.len() > INLINE, "{s}");
            table.insert(id, i);
        }
        for (i, s) in ids.iter().enumerate() {
            assert_eq!(table.get(*s), Some(&i), "{s}");
        }
        let (a, b, again) = (
            ClientId::from("a"),
            ClientId::from("b"),
            ClientId::from("a"),
        );
        assert!(a < b && a == again && a != b);
        assert!(a == *"a" && a != *"b" && b != *"a");
        assert_eq!(std::mem::size_of::<ClientId>(), 24);
    }
}
