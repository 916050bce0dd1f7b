//! PUBREC (v3.1.1 §3.5).

use super::id_only::id_only_packet;
use crate::wire::PacketType;

id_only_packet! {
    /// The first answer to a QoS 2 PUBLISH (§4.3.3): its receiver answers
    /// it with PUBREL.
    ///
    /// ```
    /// use mqtt_codec::{Encode, v3_1_1::Pubrec};
    /// let mut buf = Vec::new();
    /// Pubrec::new(10u16).encode(&mut buf)?;
    /// assert_eq!(buf, [0x50, 0x02, 0x00, 0x0A]);
    /// # Ok::<(), mqtt_codec::EncodeError>(())
    /// ```
    Pubrec, PubrecBuilder, PacketType::Pubrec, 0
}

#[cfg(test)]
mod tests {
    super::super::id_only::id_only_tests!(Pubrec, Pubrec, 0x50);
}
