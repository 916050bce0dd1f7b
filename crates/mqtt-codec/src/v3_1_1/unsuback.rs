//! UNSUBACK (v3.1.1 §3.11).

use super::id_only::id_only_packet;
use crate::wire::PacketType;

id_only_packet! {
    /// The server's answer to an UNSUBSCRIBE, with the same packet
    /// identifier [MQTT-3.10.4-4].
    ///
    /// ```
    /// use mqtt_codec::{Encode, v3_1_1::Unsuback};
    /// let mut buf = Vec::new();
    /// Unsuback::new(10u16).encode(&mut buf)?;
    /// assert_eq!(buf, [0xB0, 0x02, 0x00, 0x0A]);
    /// # Ok::<(), mqtt_codec::EncodeError>(())
    /// ```
    Unsuback, UnsubackBuilder, PacketType::Unsuback, 0
}

#[cfg(test)]
mod tests {
    super::super::id_only::id_only_tests!(Unsuback, Unsuback, 0xB0);
}
