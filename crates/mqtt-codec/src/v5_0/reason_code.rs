//! Reason codes of MQTT v5.0 (§2.4): one enum per packet, holding exactly
//! the codes that packet's table lists.

use core::fmt;

use crate::wire::PacketType;
use crate::DecodeError;

/// Defines a reason code enum: `Variant = code => "Spec name"`.
macro_rules! reason_codes {
    (
        $(#[$meta:meta])*
        pub enum $name:ident for $packet_type:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $code:literal => $text:literal
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum $name {
            $(
                $(#[$vmeta])*
                $variant = $code,
            )*
        }

        impl $name {
            /// Every code of the table, in ascending order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The reason code `code`; errs with
            /// [`DecodeError::InvalidReasonCode`] on a code the table does
            /// not list.
            #[inline]
            pub const fn from_u8(code: u8) -> Result<Self, DecodeError> {
                match code {
                    $($code => Ok($name::$variant),)*
                    _ => Err(DecodeError::InvalidReasonCode {
                        packet_type: PacketType::$packet_type,
                        code,
                    }),
                }
            }

            /// The byte on the wire.
            #[inline]
            pub const fn as_u8(self) -> u8 {
                self as u8
            }

            /// Whether the code reports success: below 0x80 (§2.4).
            #[inline]
            pub const fn is_success(self) -> bool {
                (self as u8) < 0x80
            }

            /// Whether the code reports a failure: 0x80 or above (§2.4).
            #[inline]
            pub const fn is_failure(self) -> bool {
                !self.is_success()
            }

            /// The name the spec gives the code.
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl TryFrom<u8> for $name {
            type Error = DecodeError;
            #[inline]
            fn try_from(code: u8) -> Result<Self, DecodeError> {
                $name::from_u8(code)
            }
        }

        impl From<$name> for u8 {
            #[inline]
            fn from(code: $name) -> u8 {
                code as u8
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

reason_codes! {
    /// Connect Reason Code of a CONNACK (§3.2.2.2); the Server uses only
    /// these [MQTT-3.2.2-8].
    pub enum ConnectReasonCode for Connack {
        /// 0x00: the connection is accepted.
        Success = 0x00 => "Success",
        /// 0x80: the Server does not say why.
        UnspecifiedError = 0x80 => "Unspecified error",
        /// 0x81: the CONNECT could not be parsed.
        MalformedPacket = 0x81 => "Malformed Packet",
        /// 0x82: the CONNECT breaks the specification.
        ProtocolError = 0x82 => "Protocol Error",
        /// 0x83: valid, but not accepted by this Server.
        ImplementationSpecificError = 0x83 => "Implementation specific error",
        /// 0x84: the protocol version is not supported.
        UnsupportedProtocolVersion = 0x84 => "Unsupported Protocol Version",
        /// 0x85: the Client Identifier is not allowed.
        ClientIdentifierNotValid = 0x85 => "Client Identifier not valid",
        /// 0x86: the User Name or Password is not accepted.
        BadUserNameOrPassword = 0x86 => "Bad User Name or Password",
        /// 0x87: the Client is not authorized to connect.
        NotAuthorized = 0x87 => "Not authorized",
        /// 0x88: the Server is not available.
        ServerUnavailable = 0x88 => "Server unavailable",
        /// 0x89: the Server is busy.
        ServerBusy = 0x89 => "Server busy",
        /// 0x8A: the Client is banned.
        Banned = 0x8A => "Banned",
        /// 0x8C: the authentication method is not supported or does not match.
        BadAuthenticationMethod = 0x8C => "Bad authentication method",
        /// 0x90: the Will Topic is not accepted.
        TopicNameInvalid = 0x90 => "Topic Name invalid",
        /// 0x95: the CONNECT is too large.
        PacketTooLarge = 0x95 => "Packet too large",
        /// 0x97: a limit was exceeded.
        QuotaExceeded = 0x97 => "Quota exceeded",
        /// 0x99: the Will payload does not match its Payload Format Indicator.
        PayloadFormatInvalid = 0x99 => "Payload format invalid",
        /// 0x9A: Will Retain set, but retained messages are not supported.
        RetainNotSupported = 0x9A => "Retain not supported",
        /// 0x9B: the Will QoS is not supported.
        QoSNotSupported = 0x9B => "QoS not supported",
        /// 0x9C: use another server, for now.
        UseAnotherServer = 0x9C => "Use another server",
        /// 0x9D: use another server, for good.
        ServerMoved = 0x9D => "Server moved",
        /// 0x9F: the connection rate limit was exceeded.
        ConnectionRateExceeded = 0x9F => "Connection rate exceeded",
    }
}

reason_codes! {
    /// PUBACK Reason Code (§3.4.2.1); the sender uses only these [MQTT-3.4.2-1].
    pub enum PubackReasonCode for Puback {
        /// 0x00: the message is accepted.
        Success = 0x00 => "Success",
        /// 0x10: accepted, but nobody subscribes (sent by the Server only).
        NoMatchingSubscribers = 0x10 => "No matching subscribers",
        /// 0x80: not accepted, reason not given.
        UnspecifiedError = 0x80 => "Unspecified error",
        /// 0x83: valid, but the receiver will not accept it.
        ImplementationSpecificError = 0x83 => "Implementation specific error",
        /// 0x87: the PUBLISH is not authorized.
        NotAuthorized = 0x87 => "Not authorized",
        /// 0x90: the Topic Name is not accepted.
        TopicNameInvalid = 0x90 => "Topic Name invalid",
        /// 0x91: the Packet Identifier is already in use.
        PacketIdentifierInUse = 0x91 => "Packet identifier in use",
        /// 0x97: a limit was exceeded.
        QuotaExceeded = 0x97 => "Quota exceeded",
        /// 0x99: the payload does not match its Payload Format Indicator.
        PayloadFormatInvalid = 0x99 => "Payload format invalid",
    }
}

reason_codes! {
    /// PUBREC Reason Code (§3.5.2.1); the sender uses only these [MQTT-3.5.2-1].
    pub enum PubrecReasonCode for Pubrec {
        /// 0x00: the message is accepted.
        Success = 0x00 => "Success",
        /// 0x10: accepted, but nobody subscribes (sent by the Server only).
        NoMatchingSubscribers = 0x10 => "No matching subscribers",
        /// 0x80: not accepted, reason not given.
        UnspecifiedError = 0x80 => "Unspecified error",
        /// 0x83: valid, but the receiver will not accept it.
        ImplementationSpecificError = 0x83 => "Implementation specific error",
        /// 0x87: the PUBLISH is not authorized.
        NotAuthorized = 0x87 => "Not authorized",
        /// 0x90: the Topic Name is not accepted.
        TopicNameInvalid = 0x90 => "Topic Name invalid",
        /// 0x91: the Packet Identifier is already in use.
        PacketIdentifierInUse = 0x91 => "Packet Identifier in use",
        /// 0x97: a limit was exceeded.
        QuotaExceeded = 0x97 => "Quota exceeded",
        /// 0x99: the payload does not match its Payload Format Indicator.
        PayloadFormatInvalid = 0x99 => "Payload format invalid",
    }
}

reason_codes! {
    /// PUBREL Reason Code (§3.6.2.1); the sender uses only these [MQTT-3.6.2-1].
    pub enum PubrelReasonCode for Pubrel {
        /// 0x00: the message is released.
        Success = 0x00 => "Success",
        /// 0x92: the Packet Identifier is not known.
        PacketIdentifierNotFound = 0x92 => "Packet Identifier not found",
    }
}

reason_codes! {
    /// PUBCOMP Reason Code (§3.7.2.1); the sender uses only these [MQTT-3.7.2-1].
    pub enum PubcompReasonCode for Pubcomp {
        /// 0x00: the Packet Identifier is released, the QoS 2 flow is complete.
        Success = 0x00 => "Success",
        /// 0x92: the Packet Identifier is not known.
        PacketIdentifierNotFound = 0x92 => "Packet Identifier not found",
    }
}

reason_codes! {
    /// Subscribe Reason Code, one per Topic Filter of a SUBACK (§3.9.3); the
    /// Server uses only these [MQTT-3.9.3-2].
    pub enum SubackReasonCode for Suback {
        /// 0x00: subscribed, messages are sent at QoS 0 at most.
        GrantedQoS0 = 0x00 => "Granted QoS 0",
        /// 0x01: subscribed, messages are sent at QoS 1 at most.
        GrantedQoS1 = 0x01 => "Granted QoS 1",
        /// 0x02: subscribed, messages are sent at any QoS.
        GrantedQoS2 = 0x02 => "Granted QoS 2",
        /// 0x80: not subscribed, reason not given.
        UnspecifiedError = 0x80 => "Unspecified error",
        /// 0x83: valid, but the Server does not accept it.
        ImplementationSpecificError = 0x83 => "Implementation specific error",
        /// 0x87: the Client may not make this subscription.
        NotAuthorized = 0x87 => "Not authorized",
        /// 0x8F: the Topic Filter is not allowed for this Client.
        TopicFilterInvalid = 0x8F => "Topic Filter invalid",
        /// 0x91: the Packet Identifier is already in use.
        PacketIdentifierInUse = 0x91 => "Packet Identifier in use",
        /// 0x97: a limit was exceeded.
        QuotaExceeded = 0x97 => "Quota exceeded",
        /// 0x9E: shared subscriptions are not supported.
        SharedSubscriptionsNotSupported = 0x9E => "Shared Subscriptions not supported",
        /// 0xA1: Subscription Identifiers are not supported.
        SubscriptionIdentifiersNotSupported = 0xA1 => "Subscription Identifiers not supported",
        /// 0xA2: wildcard subscriptions are not supported.
        WildcardSubscriptionsNotSupported = 0xA2 => "Wildcard Subscriptions not supported",
    }
}

reason_codes! {
    /// Unsubscribe Reason Code, one per Topic Filter of an UNSUBACK (§3.11.3);
    /// the Server uses only these [MQTT-3.11.3-2].
    pub enum UnsubackReasonCode for Unsuback {
        /// 0x00: the subscription is deleted.
        Success = 0x00 => "Success",
        /// 0x11: no such subscription existed.
        NoSubscriptionExisted = 0x11 => "No subscription existed",
        /// 0x80: not unsubscribed, reason not given.
        UnspecifiedError = 0x80 => "Unspecified error",
        /// 0x83: valid, but the Server does not accept it.
        ImplementationSpecificError = 0x83 => "Implementation specific error",
        /// 0x87: the Client may not unsubscribe.
        NotAuthorized = 0x87 => "Not authorized",
        /// 0x8F: the Topic Filter is not allowed for this Client.
        TopicFilterInvalid = 0x8F => "Topic Filter invalid",
        /// 0x91: the Packet Identifier is already in use.
        PacketIdentifierInUse = 0x91 => "Packet Identifier in use",
    }
}

reason_codes! {
    /// Disconnect Reason Code (§3.14.2.1); the sender uses only these
    /// [MQTT-3.14.2-1].
    pub enum DisconnectReasonCode for Disconnect {
        /// 0x00: close normally, without the Will Message.
        NormalDisconnection = 0x00 => "Normal disconnection",
        /// 0x04: close, and the Server publishes the Will Message (Client only).
        DisconnectWithWillMessage = 0x04 => "Disconnect with Will Message",
        /// 0x80: closed, reason not given.
        UnspecifiedError = 0x80 => "Unspecified error",
        /// 0x81: a packet could not be parsed.
        MalformedPacket = 0x81 => "Malformed Packet",
        /// 0x82: an unexpected or out of order packet.
        ProtocolError = 0x82 => "Protocol Error",
        /// 0x83: valid, but this implementation cannot process it.
        ImplementationSpecificError = 0x83 => "Implementation specific error",
        /// 0x87: the request is not authorized (Server only).
        NotAuthorized = 0x87 => "Not authorized",
        /// 0x89: the Server is busy (Server only).
        ServerBusy = 0x89 => "Server busy",
        /// 0x8B: the Server is shutting down (Server only).
        ServerShuttingDown = 0x8B => "Server shutting down",
        /// 0x8D: nothing received for 1.5 times the Keep Alive (Server only).
        KeepAliveTimeout = 0x8D => "Keep Alive timeout",
        /// 0x8E: another connection took the Client Identifier over (Server only).
        SessionTakenOver = 0x8E => "Session taken over",
        /// 0x8F: the Topic Filter is not accepted (Server only).
        TopicFilterInvalid = 0x8F => "Topic Filter invalid",
        /// 0x90: the Topic Name is not accepted.
        TopicNameInvalid = 0x90 => "Topic Name invalid",
        /// 0x93: more unacknowledged PUBLISHes than Receive Maximum.
        ReceiveMaximumExceeded = 0x93 => "Receive Maximum exceeded",
        /// 0x94: a Topic Alias above the maximum, or otherwise invalid.
        TopicAliasInvalid = 0x94 => "Topic Alias invalid",
        /// 0x95: a packet above Maximum Packet Size.
        PacketTooLarge = 0x95 => "Packet too large",
        /// 0x96: the data rate is too high.
        MessageRateTooHigh = 0x96 => "Message rate too high",
        /// 0x97: a limit was exceeded.
        QuotaExceeded = 0x97 => "Quota exceeded",
        /// 0x98: closed by administrative action.
        AdministrativeAction = 0x98 => "Administrative action",
        /// 0x99: a payload does not match its Payload Format Indicator.
        PayloadFormatInvalid = 0x99 => "Payload format invalid",
        /// 0x9A: retained messages are not supported (Server only).
        RetainNotSupported = 0x9A => "Retain not supported",
        /// 0x9B: a QoS above Maximum QoS (Server only).
        QoSNotSupported = 0x9B => "QoS not supported",
        /// 0x9C: use another server, for now (Server only).
        UseAnotherServer = 0x9C => "Use another server",
        /// 0x9D: use another server, for good (Server only).
        ServerMoved = 0x9D => "Server moved",
        /// 0x9E: shared subscriptions are not supported (Server only).
        SharedSubscriptionsNotSupported = 0x9E => "Shared Subscriptions not supported",
        /// 0x9F: the connection rate is too high (Server only).
        ConnectionRateExceeded = 0x9F => "Connection rate exceeded",
        /// 0xA0: the maximum connection time was exceeded (Server only).
        MaximumConnectTime = 0xA0 => "Maximum connect time",
        /// 0xA1: Subscription Identifiers are not supported (Server only).
        SubscriptionIdentifiersNotSupported = 0xA1 => "Subscription Identifiers not supported",
        /// 0xA2: wildcard subscriptions are not supported (Server only).
        WildcardSubscriptionsNotSupported = 0xA2 => "Wildcard Subscriptions not supported",
    }
}

reason_codes! {
    /// Authenticate Reason Code of an AUTH (§3.15.2.1); the sender uses only
    /// these [MQTT-3.15.2-1].
    pub enum AuthReasonCode for Auth {
        /// 0x00: authentication succeeded (Server only).
        Success = 0x00 => "Success",
        /// 0x18: continue with another step.
        ContinueAuthentication = 0x18 => "Continue authentication",
        /// 0x19: start a re-authentication (Client only).
        ReAuthenticate = 0x19 => "Re-authenticate",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    /// Checks one enum against the codes its table lists, written out here
    /// from the spec: each round-trips, every other byte is refused, and
    /// success is exactly below 0x80.
    macro_rules! check_table {
        ($ty:ident, $packet_type:ident, [$($code:literal),* $(,)?]) => {{
            let listed: &[u8] = &[$($code),*];
            let all: Vec<u8> = $ty::ALL.iter().map(|c| c.as_u8()).collect();
            assert_eq!(all, listed, "{} lists the codes of its table", stringify!($ty));
            for byte in 0..=u8::MAX {
                match $ty::from_u8(byte) {
                    Ok(code) => {
                        assert!(listed.contains(&byte));
                        assert_eq!(code.as_u8(), byte);
                        assert_eq!(u8::from(code), byte);
                        assert_eq!($ty::try_from(byte), Ok(code));
                        assert_eq!(code.is_success(), byte < 0x80);
                        assert_eq!(code.is_failure(), byte >= 0x80);
                        assert!(!code.to_string().is_empty());
                    }
                    Err(e) => {
                        assert!(!listed.contains(&byte));
                        assert_eq!(
                            e,
                            DecodeError::InvalidReasonCode {
                                packet_type: PacketType::$packet_type,
                                code: byte,
                            }
                        );
                        assert_eq!(e.reason_code(), 0x81);
                    }
                }
            }
        }};
    }

    /// [MQTT-3.2.2-8] the Connect Reason Codes of §3.2.2.2.
    #[test]
    fn connect_reason_codes() {
        check_table!(
            ConnectReasonCode,
            Connack,
            [
                0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90,
                0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
            ]
        );
        assert_eq!(
            ConnectReasonCode::from_u8(0x8B).map(|_| ()),
            Err(DecodeError::InvalidReasonCode {
                packet_type: PacketType::Connack,
                code: 0x8B,
            })
        );
    }

    /// [MQTT-3.4.2-1] the PUBACK Reason Codes of §3.4.2.1.
    #[test]
    fn puback_reason_codes() {
        check_table!(
            PubackReasonCode,
            Puback,
            [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]
        );
    }

    /// [MQTT-3.5.2-1] the PUBREC Reason Codes of §3.5.2.1.
    #[test]
    fn pubrec_reason_codes() {
        check_table!(
            PubrecReasonCode,
            Pubrec,
            [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]
        );
    }

    /// [MQTT-3.6.2-1] the PUBREL Reason Codes of §3.6.2.1.
    #[test]
    fn pubrel_reason_codes() {
        check_table!(PubrelReasonCode, Pubrel, [0x00, 0x92]);
    }

    /// [MQTT-3.7.2-1] the PUBCOMP Reason Codes of §3.7.2.1.
    #[test]
    fn pubcomp_reason_codes() {
        check_table!(PubcompReasonCode, Pubcomp, [0x00, 0x92]);
    }

    /// [MQTT-3.9.3-2] the Subscribe Reason Codes of §3.9.3.
    #[test]
    fn suback_reason_codes() {
        check_table!(
            SubackReasonCode,
            Suback,
            [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,]
        );
    }

    /// [MQTT-3.11.3-2] the Unsubscribe Reason Codes of §3.11.3.
    #[test]
    fn unsuback_reason_codes() {
        check_table!(
            UnsubackReasonCode,
            Unsuback,
            [0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91]
        );
    }

    /// [MQTT-3.14.2-1] the Disconnect Reason Codes of §3.14.2.1.
    #[test]
    fn disconnect_reason_codes() {
        check_table!(
            DisconnectReasonCode,
            Disconnect,
            [
                0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93,
                0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1,
                0xA2,
            ]
        );
    }

    /// [MQTT-3.15.2-1] the Authenticate Reason Codes of §3.15.2.1.
    #[test]
    fn auth_reason_codes() {
        check_table!(AuthReasonCode, Auth, [0x00, 0x18, 0x19]);
    }

    #[test]
    fn display_uses_the_spec_names() {
        assert_eq!(
            ConnectReasonCode::BadUserNameOrPassword.to_string(),
            "Bad User Name or Password"
        );
        assert_eq!(
            DisconnectReasonCode::NormalDisconnection.to_string(),
            "Normal disconnection"
        );
        assert_eq!(SubackReasonCode::GrantedQoS1.to_string(), "Granted QoS 1");
        assert_eq!(
            AuthReasonCode::ReAuthenticate.to_string(),
            "Re-authenticate"
        );
        assert_eq!(
            PubackReasonCode::NoMatchingSubscribers.to_string(),
            "No matching subscribers"
        );
    }

    #[test]
    fn success_and_failure_split() {
        assert!(SubackReasonCode::GrantedQoS2.is_success());
        assert!(SubackReasonCode::UnspecifiedError.is_failure());
        assert!(DisconnectReasonCode::DisconnectWithWillMessage.is_success());
        assert!(AuthReasonCode::ContinueAuthentication.is_success());
        assert!(PubrelReasonCode::PacketIdentifierNotFound.is_failure());
        assert!(UnsubackReasonCode::NoSubscriptionExisted.is_success());
    }
}
