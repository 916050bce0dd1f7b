//! The control packets of MQTT v3.1.1.

mod publish;

pub use publish::{Publish, PublishBuilder};
