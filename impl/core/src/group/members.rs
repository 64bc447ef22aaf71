//! The members of a group: who takes part, checked once for both protocols, and how many make a
//! quorum.

use super::ballot::NodeId;

/// The most nodes a cell may have. Quorums are strict majorities of the cell's members.
pub const MEMBERS_MAX: usize = 7;

/// The number of members that make a quorum in a cell of `member_count`: a strict majority.
pub fn quorum_size(member_count: usize) -> usize {
    assert!((1..=MEMBERS_MAX).contains(&member_count));
    member_count / 2 + 1
}

/// Why a cell's member list, or a node's place in it, is unusable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MembersError {
    /// The cell has no members or more than [`MEMBERS_MAX`].
    #[error("a cell has 1 to {MEMBERS_MAX} members, not {0}")]
    Count(usize),
    /// A member is listed twice.
    #[error("member {0} is listed twice")]
    Duplicate(NodeId),
    /// The node is not a member of its own cell.
    #[error("node {0} is not among the cell's members")]
    NotAMember(NodeId),
}

/// Checks that `members` is a cell of 1 to [`MEMBERS_MAX`] distinct nodes including `id`.
pub fn check_members(id: NodeId, members: &[NodeId]) -> Result<(), MembersError> {
    if !(1..=MEMBERS_MAX).contains(&members.len()) {
        return Err(MembersError::Count(members.len()));
    }
    for (i, member) in members.iter().enumerate() {
        if members[..i].contains(member) {
            return Err(MembersError::Duplicate(*member));
        }
    }
    if !members.contains(&id) {
        return Err(MembersError::NotAMember(id));
    }
    Ok(())
}
