//! The driving loop of [`GenericEndpoint`]: read → `recv` → handle the
//! events → write, and the timers.

use std::io::{self, IoSlice, Read, Write};
use std::time::{Duration, Instant};

use mqtt_codec::{Encode, GenericPacket, PacketId};
use mqtt_core::{GenericEvent, MonotonicTime, Role};

use super::{GenericEndpoint, MAX_KEPT_EVENTS, POLL, READ_CHUNK};
use crate::{io_error, Deadline};

impl<R: Role, S: Read + Write + Deadline, P: PacketId> GenericEndpoint<R, S, P> {
    /// What every send does first: read what arrived if a timer is due,
    /// and run due timers. Errs when the connection is closed.
    pub(super) fn before_send(&mut self) -> io::Result<()> {
        if self.closed {
            return Err(self.closed_error());
        }
        if self
            .timers
            .next_deadline()
            .is_some_and(|t| t <= Instant::now())
        {
            self.read_once(Some(POLL))?;
            self.fire_timers()?;
        }
        if self.closed {
            return Err(self.closed_error());
        }
        self.set_time();
        Ok(())
    }

    /// Returns a received packet, or reads until one arrives, the
    /// connection closes, or `deadline` passes (`Ok(None)`; at least one
    /// read is tried).
    pub(super) fn recv_until(
        &mut self,
        deadline: Option<Instant>,
    ) -> io::Result<Option<GenericPacket<P>>> {
        let mut tried = false;
        loop {
            if let Some(packet) = self.received.pop_front() {
                return Ok(Some(packet));
            }
            if self.closed {
                return Err(self.closed_error());
            }
            if tried && deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
            self.step(deadline)?;
            tried = true;
        }
    }

    /// Runs due timers, then reads once, until the next timer or
    /// `deadline` at most (at least [`POLL`]).
    pub(super) fn step(&mut self, deadline: Option<Instant>) -> io::Result<()> {
        self.fire_timers()?;
        if self.closed {
            return Ok(());
        }
        let next = self
            .timers
            .next_deadline()
            .into_iter()
            .chain(deadline)
            .min();
        let wait = next.map(|t| t.saturating_duration_since(Instant::now()).max(POLL));
        self.read_once(wait)
    }

    /// Fires the timers whose time has come, the earliest first.
    fn fire_timers(&mut self) -> io::Result<()> {
        while !self.closed {
            let Some(kind) = self.timers.expired(Instant::now()) else {
                break;
            };
            self.set_time();
            let events = self.conn.notify_timer_fired(kind);
            self.handle(events)?;
        }
        Ok(())
    }

    /// One read of at most `wait` (`None`: until data arrives), fed to the
    /// core.
    fn read_once(&mut self, wait: Option<Duration>) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        self.stream.set_read_deadline(wait)?;
        let start = self.read_buf.len();
        self.read_buf.resize(start + READ_CHUNK, 0);
        let result = self.stream.read(&mut self.read_buf[start..]);
        let n = *result.as_ref().unwrap_or(&0);
        self.read_buf.truncate(start + n);
        match result {
            Ok(0) => self.close_stream(),
            Ok(_) => {
                self.set_time();
                let events = self.conn.recv(&mut self.read_buf);
                self.handle(events)
            }
            Err(e) if crate::error::read_timed_out(&e) => Ok(()),
            Err(e) => {
                self.close_io = Some(e.kind());
                self.close_stream()?;
                Err(e)
            }
        }
    }

    /// Carries out `events` in order: writes packets (flushed at the end),
    /// queues received packets, starts and stops timers, keeps errors for
    /// `take_events`, closes (the error reported before is why). Errs when
    /// the stream fails.
    pub(super) fn handle(&mut self, events: Vec<GenericEvent<P>>) -> io::Result<()> {
        let mut last_error = None;
        let mut close = false;
        let mut write_error = None;
        for event in events {
            match event {
                GenericEvent::RequestSendPacket {
                    packet,
                    release_packet_id_if_send_error: release,
                } => {
                    if self.closed || write_error.is_some() {
                        self.release(release);
                    } else if let Err(e) = self.write_packet(&packet, release) {
                        write_error = Some(e);
                    }
                }
                GenericEvent::NotifyPacketReceived(packet) => self.received.push_back(packet),
                timer @ (GenericEvent::RequestTimerReset { .. }
                | GenericEvent::RequestTimerCancel(_)) => {
                    self.timers.apply(&timer, Instant::now());
                }
                GenericEvent::NotifyError(err) => {
                    last_error = Some(err.clone());
                    self.keep(GenericEvent::NotifyError(err));
                }
                GenericEvent::RequestClose => close = true,
                other => self.keep(other),
            }
        }
        if write_error.is_none() {
            if let Err(e) = self.flush() {
                write_error = Some(e);
            }
        }
        if let Some(e) = write_error {
            self.close_io = Some(e.kind());
            let ids = std::mem::take(&mut self.out_release);
            for id in ids {
                self.release(Some(id));
            }
            self.out.clear();
            self.close_stream()?;
            return Err(e);
        }
        if close && !self.closed {
            self.close_error = last_error;
            self.close_stream()?;
        }
        Ok(())
    }

    /// Encodes `packet`; a PUBLISH payload is written with its head in one
    /// vectored write, uncopied; other packets wait in `out` for
    /// [`flush`](Self::flush).
    fn write_packet(&mut self, packet: &GenericPacket<P>, release: Option<P>) -> io::Result<()> {
        let payload = packet
            .encode_vectored(&mut self.out)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        match payload {
            Some(payload) if !payload.is_empty() => {
                write_all_vectored(&mut self.stream, &self.out, payload)?;
                self.out.clear();
                self.out_release.clear();
            }
            _ => self.out_release.extend(release),
        }
        Ok(())
    }

    /// Writes what `out` holds.
    fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out)?;
            self.out.clear();
            self.out_release.clear();
        }
        self.stream.flush()
    }

    /// Releases a packet identifier whose packet was not written.
    fn release(&mut self, id: Option<P>) {
        if let Some(id) = id {
            for event in self.conn.release_packet_id(id) {
                self.keep(event);
            }
        }
    }

    /// Shuts the stream down and tells the core; idempotent.
    pub(super) fn close_stream(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        let _ = self.stream.shutdown();
        self.set_time();
        let events = self.conn.notify_closed();
        self.handle(events)
    }

    /// The error a call on a closed endpoint returns.
    fn closed_error(&self) -> io::Error {
        match (&self.close_error, self.close_io) {
            (Some(err), _) => io_error(err.clone()),
            (None, Some(kind)) => io::Error::new(kind, "the network connection failed"),
            (None, None) => io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the network connection is closed",
            ),
        }
    }

    fn keep(&mut self, event: GenericEvent<P>) {
        if self.kept.len() == MAX_KEPT_EVENTS {
            self.kept.pop_front();
        }
        self.kept.push_back(event);
    }

    pub(super) fn set_time(&mut self) {
        self.conn
            .set_time(MonotonicTime::from_instant(self.origin, Instant::now()));
    }
}

/// Writes `head` then `payload` with vectored writes until both are out.
fn write_all_vectored<W: Write>(w: &mut W, mut head: &[u8], mut payload: &[u8]) -> io::Result<()> {
    while !head.is_empty() || !payload.is_empty() {
        let result = if head.is_empty() {
            w.write(payload)
        } else {
            w.write_vectored(&[IoSlice::new(head), IoSlice::new(payload)])
        };
        let n = match result {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n >= head.len() {
            payload = &payload[n - head.len()..];
            head = &[];
        } else {
            head = &head[n..];
        }
    }
    Ok(())
}
