//! Enhanced authentication (§4.12) and re-authentication (§4.12.1).

use mqtt_codec::v5_0::{self, AuthReasonCode, ConnackProperties};
use mqtt_codec::PacketId;

use super::GenericConnection;
use crate::role::{Role, RoleKind};
use crate::{ConnectionError, ConnectionState, SendError};

/// Where an AUTH may go, given who sends it: the AUTH exchange between
/// CONNECT and CONNACK uses Continue authentication (0x18) both ways
/// [MQTT-4.12.0-2], [MQTT-4.12.0-3]; a re-authentication starts with the
/// Client's Re-authenticate (0x19), goes on with Continue, and ends with the
/// Server's Success (§4.12.1).
enum AuthStep {
    Allowed,
    StartsReauthentication,
    EndsReauthentication,
    Refused(&'static str),
}

fn auth_step(
    sender: RoleKind,
    state: ConnectionState,
    reauthenticating: bool,
    code: AuthReasonCode,
) -> AuthStep {
    use AuthReasonCode as C;
    use ConnectionState as S;
    match (sender, state, code) {
        (_, S::Connecting, C::ContinueAuthentication) => AuthStep::Allowed,
        (_, S::Connecting, _) => AuthStep::Refused(
            "an AUTH before the CONNACK carries Continue authentication [MQTT-4.12.0-2], [MQTT-4.12.0-3]",
        ),
        (RoleKind::Client, S::Connected, C::ReAuthenticate) if !reauthenticating => {
            AuthStep::StartsReauthentication
        }
        (_, S::Connected, C::ContinueAuthentication) if reauthenticating => AuthStep::Allowed,
        (RoleKind::Server, S::Connected, C::Success) if reauthenticating => {
            AuthStep::EndsReauthentication
        }
        _ => AuthStep::Refused("an AUTH out of sequence (§4.12, §4.12.1)"),
    }
}

impl<R: Role, P: PacketId> GenericConnection<R, P> {
    /// An AUTH only after a CONNECT with an Authentication Method
    /// [MQTT-4.12.0-6], [MQTT-4.12.0-7], with that method [MQTT-4.12.0-5],
    /// [MQTT-4.12.1-1].
    fn check_auth_method(&self, auth: &v5_0::Auth) -> Result<(), &'static str> {
        let Some(method) = &self.neg.auth_method else {
            return Err(
                "no AUTH without an Authentication Method in CONNECT [MQTT-4.12.0-6], [MQTT-4.12.0-7]",
            );
        };
        if auth.properties().authentication_method.as_ref() != Some(method) {
            return Err("an AUTH carries the Authentication Method of the CONNECT [MQTT-4.12.0-5]");
        }
        Ok(())
    }

    /// Checks an AUTH we are about to send.
    pub(super) fn check_auth_send(&self, auth: &v5_0::Auth) -> Result<(), SendError> {
        self.check_auth_method(auth).map_err(SendError::Forbidden)?;
        match auth_step(
            self.role,
            self.state,
            self.neg.reauthenticating,
            auth.reason_code(),
        ) {
            AuthStep::Refused(why) => Err(SendError::Forbidden(why)),
            _ => Ok(()),
        }
    }

    /// An AUTH was sent (after [`check_auth_send`](Self::check_auth_send)).
    pub(super) fn auth_sent(&mut self, auth: &v5_0::Auth) {
        self.auth_step_taken(self.role, auth.reason_code());
    }

    /// An AUTH arrived: checked like one sent, by the peer's role.
    pub(super) fn auth_received(&mut self, auth: &v5_0::Auth) -> Result<(), ConnectionError> {
        self.check_auth_method(auth)
            .map_err(ConnectionError::ProtocolError)?;
        let peer = match self.role {
            RoleKind::Client => RoleKind::Server,
            _ => RoleKind::Client,
        };
        if let AuthStep::Refused(why) = auth_step(
            peer,
            self.state,
            self.neg.reauthenticating,
            auth.reason_code(),
        ) {
            return Err(ConnectionError::ProtocolError(why));
        }
        self.auth_step_taken(peer, auth.reason_code());
        Ok(())
    }

    fn auth_step_taken(&mut self, sender: RoleKind, code: AuthReasonCode) {
        match auth_step(sender, self.state, self.neg.reauthenticating, code) {
            AuthStep::StartsReauthentication => self.neg.reauthenticating = true,
            AuthStep::EndsReauthentication => self.neg.reauthenticating = false,
            _ => {}
        }
    }

    /// Client: a CONNACK carries the Authentication Method of the CONNECT
    /// when it succeeds [MQTT-4.12.0-5], and none when the CONNECT had none
    /// [MQTT-4.12.0-6].
    pub(super) fn check_connack_auth(
        &self,
        success: bool,
        properties: &ConnackProperties,
    ) -> Result<(), ConnectionError> {
        let method = properties.authentication_method.as_ref();
        match &self.neg.auth_method {
            None if method.is_some() => Err(ConnectionError::ProtocolError(
                "an Authentication Method in CONNACK after a CONNECT without one [MQTT-4.12.0-6]",
            )),
            Some(expected) if success && method != Some(expected) => {
                Err(ConnectionError::ProtocolError(
                    "a successful CONNACK carries the Authentication Method of the CONNECT [MQTT-4.12.0-5]",
                ))
            }
            _ => Ok(()),
        }
    }
}
