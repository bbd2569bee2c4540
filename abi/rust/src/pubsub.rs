//! Publishing to topics (WIT `l8:faas/pubsub`) and the [`Message`] a subscriber gets.

use crate::abi::{lower_fields, RetArea};
use crate::error::Error;
use crate::sys;

/// Publishes `data` to `topic` on the pub/sub component (broker) named `broker` and
/// returns the message id the broker assigned. `metadata` is passed along with the
/// message; `partitionKey` selects the ordering key where the broker supports one.
/// The topic must be granted in `capabilities.publish`.
///
/// ```no_run
/// let id = l8::pubsub::publish("default", "orders", b"order 42", &[("partitionKey", "42")])?;
/// # Ok::<(), l8::Error>(())
/// ```
pub fn publish(broker: &str, topic: &str, data: impl AsRef<[u8]>, metadata: &[(&str, &str)]) -> Result<String, Error> {
    let data = data.as_ref();
    let fields = lower_fields(metadata);
    let mut ret = RetArea::new();
    // SAFETY: `fields` points into `metadata`, both alive during the call; the host
    // writes a result<string, error> into `ret`.
    unsafe {
        sys::pubsub_publish(
            broker.as_ptr(),
            broker.len(),
            topic.as_ptr(),
            topic.len(),
            data.as_ptr(),
            data.len(),
            fields.as_ptr() as *const u8,
            fields.len(),
            ret.as_mut_ptr(),
        );
        ret.string()
    }
}

/// A message delivered to a subscriber (WIT `message`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// Broker-assigned id, the same one [`publish`] returned.
    pub id: String,
    /// Name of the pub/sub component (broker) it came from.
    pub broker: String,
    pub topic: String,
    pub data: Vec<u8>,
    pub metadata: Vec<(String, String)>,
}

impl Message {
    /// The first metadata value with this name (exact match: metadata names are
    /// case-sensitive, unlike HTTP headers).
    pub fn metadata(&self, name: &str) -> Option<&str> {
        self.metadata.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The data as text; invalid UTF-8 sequences become U+FFFD.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.data)
    }
}
