//! What can go wrong, in terms a caller can act on.

use colony_core::cell::Abort;
use colony_core::group::NodeId;

/// Why a client call failed. The variants say what the caller may do next: fix the input
/// ([`ClientError::Invalid`], [`ClientError::NotFound`]), accept the verdict
/// ([`ClientError::Aborted`]), treat the outcome as unknown ([`ClientError::Indeterminate`]),
/// or try again later knowing nothing was applied ([`ClientError::Unavailable`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The request is malformed or past a bound (the text names which); nothing was sent.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// No cell of this name is in the directory.
    #[error("no cell named {0:?}: create it with `colony cell create {0}`")]
    NotFound(String),
    /// The cell applied the transaction's verdict: a condition failed or an operation could not
    /// apply (the error names which, by index). Nothing changed.
    #[error("the transaction changed nothing: {0}")]
    Aborted(Abort),
    /// The request may or may not have been applied: it was sent, and no answer said which
    /// before the client gave up.
    #[error("the outcome is unknown (the request may or may not have been applied): {0}")]
    Indeterminate(String),
    /// No member could take the request; nothing was applied.
    #[error("unavailable (nothing was applied): {0}")]
    Unavailable(String),
    /// A node refused the request as malformed (another version, or a bound the node holds).
    #[error("refused by node {node}: {reason}")]
    Refused {
        /// The node.
        node: u8,
        /// Why.
        reason: String,
    },
    /// A cell was recorded in the directory but some of its members did not take it yet.
    #[error("cell {name:?} is recorded with members {members:?}, but {failed}: run the same `colony cell create` again to finish")]
    Placement {
        /// The cell's name.
        name: String,
        /// Its members.
        members: Vec<u8>,
        /// The members that did not take it, and why.
        failed: String,
    },
    /// A node answered something this client cannot make sense of.
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl ClientError {
    pub(crate) fn refused(node: NodeId, reason: impl Into<String>) -> ClientError {
        ClientError::Refused {
            node: node.0,
            reason: reason.into(),
        }
    }
}
