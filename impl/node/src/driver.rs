//! The driver: the one piece of code that carries out a host's output, in the order [`Ready`]
//! states, over a storage and a transport. The server and the simulator run it alike; only
//! their storage and transport differ.
//!
//! Durability can be carried out in one go ([`Driver::flush`]: append, sync, send, until the
//! host has nothing more) or in two halves ([`Driver::pump`] appends and sends what may go,
//! [`Driver::sync`] makes what was appended durable), so that a caller can keep feeding the
//! host while a sync is under way: every input that arrives meanwhile joins the next batch,
//! which is group commit across inputs as well as across cells. The simulator uses the two
//! halves, with a simulated sync latency between them, so that a crash can fall between an
//! append and its sync.

use crate::host::{ClientReply, Event, Frame, Host, HostConfig, Input, Ready};
use crate::storage::{Storage, StorageError};
use colony_core::group::NodeId;

/// Where a node's frames, replies and events go.
pub trait Transport {
    /// Sends `frame` to node `to`. It may be lost; nothing waits for it.
    fn send(&mut self, to: NodeId, frame: Frame);
    /// Sends a reply to its client.
    fn reply(&mut self, reply: ClientReply);
    /// Reports an event (a log line, a metric, an alert).
    fn event(&mut self, event: Event);
}

/// A host, its storage and its transport.
#[derive(Debug)]
pub struct Driver<S, T> {
    host: Host,
    storage: S,
    transport: T,
    /// The last batch appended and not yet synced.
    unsynced: Option<u64>,
}

impl<S: Storage, T: Transport> Driver<S, T> {
    /// Recovers what `storage` kept and starts a host on it.
    pub fn start(config: HostConfig, mut storage: S, transport: T) -> Result<Self, StorageError> {
        let recovered = storage.recover()?;
        Ok(Driver {
            host: Host::new(config, recovered),
            storage,
            transport,
            unsynced: None,
        })
    }

    /// Gives the host one input; nothing is carried out until [`Driver::pump`] or
    /// [`Driver::flush`].
    pub fn submit(&mut self, input: Input) {
        self.host.step(input);
    }

    /// Carries out what the host has ready without waiting for a sync: appends its batches and
    /// sends what may go. Returns whether appended batches wait for [`Driver::sync`].
    pub fn pump(&mut self) -> Result<bool, StorageError> {
        let Ready {
            batches,
            messages,
            replies,
            events,
        } = self.host.ready();
        for batch in &batches {
            self.storage.append(&batch.writes)?;
            self.unsynced = Some(batch.id);
        }
        for (to, frame) in messages {
            self.transport.send(to, frame);
        }
        for reply in replies {
            self.transport.reply(reply);
        }
        for event in events {
            self.transport.event(event);
        }
        Ok(self.unsynced.is_some())
    }

    /// Makes every appended batch durable and tells the host; what that releases goes out at
    /// the next pump. An error is fatal: the node must stop.
    pub fn sync(&mut self) -> Result<(), StorageError> {
        if let Some(batch) = self.unsynced.take() {
            self.storage.sync()?;
            self.host.step(Input::Durable { batch });
        }
        Ok(())
    }

    /// Pumps and syncs until the host has nothing more to do.
    pub fn flush(&mut self) -> Result<(), StorageError> {
        for _ in 0..crate::limits::FLUSH_ROUNDS_MAX {
            if !self.pump()? {
                return Ok(());
            }
            self.sync()?;
        }
        panic!(
            "the host still asked for writes after {} rounds",
            crate::limits::FLUSH_ROUNDS_MAX
        );
    }

    /// The host.
    pub fn host(&mut self) -> &mut Host {
        &mut self.host
    }

    /// The storage (the simulator reaches its simulated disk through it to inject faults).
    pub fn storage(&mut self) -> &mut S {
        &mut self.storage
    }

    /// The transport.
    pub fn transport(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Stops the node and gives its storage back (the simulator crashes it, then starts a new
    /// driver on it).
    pub fn into_storage(self) -> S {
        self.storage
    }
}

/// A transport that keeps everything, for the simulator and tests to take.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outbox {
    /// Frames sent, with their receiver.
    pub frames: Vec<(NodeId, Frame)>,
    /// Replies sent.
    pub replies: Vec<ClientReply>,
    /// Events reported.
    pub events: Vec<Event>,
}

impl Transport for Outbox {
    fn send(&mut self, to: NodeId, frame: Frame) {
        self.frames.push((to, frame));
    }
    fn reply(&mut self, reply: ClientReply) {
        self.replies.push(reply);
    }
    fn event(&mut self, event: Event) {
        self.events.push(event);
    }
}
