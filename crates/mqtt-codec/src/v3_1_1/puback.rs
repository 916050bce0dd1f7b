//! PUBACK (v3.1.1 §3.4).

use super::id_only::id_only_packet;
use crate::wire::PacketType;

id_only_packet! {
    /// The answer to a QoS 1 PUBLISH (§4.3.2): sent by its receiver, it
    /// ends the flow.
    ///
    /// ```
    /// use mqtt_codec::{Encode, v3_1_1::Puback};
    /// let mut buf = Vec::new();
    /// Puback::new(10u16).encode(&mut buf)?;
    /// assert_eq!(buf, [0x40, 0x02, 0x00, 0x0A]);
    /// # Ok::<(), mqtt_codec::EncodeError>(())
    /// ```
    Puback, PubackBuilder, PacketType::Puback, 0
}

#[cfg(test)]
mod tests {
    super::super::id_only::id_only_tests!(Puback, Puback, 0x40);
}
