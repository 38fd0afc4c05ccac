//! Shared vocabulary of every Quorum domain crate: who is acting ([`Actor`], [`Role`]), what they
//! may do ([`Permission`]), how operations fail ([`DomainError`]), what time it is ([`Clock`]),
//! how lists are paged ([`pagination`]), how records get human numbers ([`numbering`]) and the
//! append-only event log that every write records itself in ([`event`]), and the one versioned
//! write every record type plugs into ([`write`]).
//!
//! Nothing here knows about HTTP or GraphQL objects.

pub mod actor;
pub mod clock;
pub mod columns;
pub mod error;
pub mod event;
pub mod feed;
pub mod ids;
pub mod mark;
pub mod numbering;
pub mod pagination;
pub mod permission;
pub mod store;
pub mod tally;
pub mod text;
pub mod write;

pub use actor::{Actor, Role};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use error::{DomainError, DomainResult, TransitionBlock};
pub use permission::Permission;
pub use store::{WriteTransaction, begin_write};
pub use write::Context;
