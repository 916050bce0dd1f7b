//! PUBCOMP (v3.1.1 §3.7).

use super::id_only::id_only_packet;
use crate::wire::PacketType;

id_only_packet! {
    /// The answer to a PUBREL (§4.3.3): it ends a QoS 2 flow.
    ///
    /// ```
    /// use mqtt_codec::{Encode, v3_1_1::Pubcomp};
    /// let mut buf = Vec::new();
    /// Pubcomp::new(10u16).encode(&mut buf)?;
    /// assert_eq!(buf, [0x70, 0x02, 0x00, 0x0A]);
    /// # Ok::<(), mqtt_codec::EncodeError>(())
    /// ```
    Pubcomp, PubcompBuilder, PacketType::Pubcomp, 0
}

#[cfg(test)]
mod tests {
    super::super::id_only::id_only_tests!(Pubcomp, Pubcomp, 0x70);
}
