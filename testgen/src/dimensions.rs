//! What the generated scenarios vary, dimension by dimension, and which values they reach.
//!
//! Every generated test is one node in one protocol round, from a prior state, hearing a
//! scenario's messages in every combination of loss, duplication and order. A bug can hide in
//! a value of a dimension that no scenario takes, so this page lists, for every role and
//! scenario family, each dimension and the values the generated cases reach, and says plainly
//! what is **not reached**. Each claim is read from the generator and the harness; when one of
//! them changes, change this page with it.
//!
//! Across every family:
//!
//! - **Loss, duplication, order.** Every message of a scenario is lost, delivered once or
//!   delivered twice ([`colony_model::deliveries::COPIES_MAX`] is 2), in every order; three
//!   copies of one message: not reached. Where a row of `cargo xtask codegen` says "none
//!   duplicated", messages are lost and reordered only.
//! - **Cell sizes.** 3, 5 and 7. Cells of 5 and 7 fold combinations that differ only by
//!   renaming acceptors that sent interchangeable messages ([`crate::tables`]); a cell of 3
//!   folds nothing. Other sizes (1, 2, 4, 6): not reached.
//! - **Ballots as the core sees them.** Spec ballot `b` is the real ballot of round `b` owned
//!   by node `n - (b mod (n - 1))` (`proposer_of` in the harness), so each round has exactly
//!   one owner; two ballots of one round with different owners: not reached. Node 1, the
//!   acceptor under test, owns no ballot.
//! - **Values as the core sees them.** Spec value `vK` is the two bytes `"vK"`; empty, long or
//!   bound-sized values: not reached here (the wire tests check the bounds).
//! - **Crashes.** A node starts the round from a hard state (the acceptor's prior state, the
//!   round a proposer of ballot 2 or a Multi-Paxos leader started before); a crash in the
//!   middle of a round: not reached (the random runs crash nodes at random steps).
//! - **Timers.** No scenario ticks a node during its round; retries and elections after a
//!   timeout: not reached, except the timeout that starts a Multi-Paxos leader (which is also
//!   started by a client's command).
//!
//! # Single-decree Paxos (`tla/Paxos.tla`)
//!
//! **Acceptor** ([`crate::acceptor`], files `acceptor_n*.rs`). The node under test is `a1`.
//!
//! - Prior states: every `(maxBal, maxVBal, maxVal)` some acceptor holds in a reachable state
//!   of the model with 2 values and ballots `0..1` (9 of them). Ballot 2 and above: not reached.
//! - Messages: two rounds of three messages, a `1a` of one ballot and `2a`s of both ballots
//!   for different values (`1a(1), 2a(0, v1), 2a(1, v2)` and `1a(0), 2a(0, v2), 2a(1, v1)`),
//!   so each round has a `1a` and a `2a` of one ballot (1 in the first, 0 in the second).
//!   Stale messages are reached (a `2a` or `1a` below the promise, from the prior state or
//!   after a delivery); two `1a`s in one round: not reached.
//! - Coverage: every transition of `a1` the model takes (27 of 27).
//!
//! **Learner** ([`crate::learner`], files `learner_n*.rs`).
//!
//! - Votes: one from each acceptor, all for `v1`; either all of ballot 0, or a minority of
//!   ballot 0 and a majority of ballot 1. Votes for `v2`, for two values, or of three ballots:
//!   not reached. The learner starts knowing nothing; a learner that already learned: not
//!   reached.
//!
//! **Proposer** ([`crate::proposer`], files `proposer_n*.rs`, `proposer_n*_b2.rs`).
//!
//! - Ballots: the proposer of ballot 1 (every reported vote is of ballot 0) and of ballot 2
//!   (votes of ballots 0 and 1, for the same or different values), each the highest ballot of
//!   its model, so no higher ballot interrupts it. Ballot 3 and above: not reached.
//! - Promise sets: every set of one promise per acceptor the model can have in flight at once
//!   (ballot 1: 15 in a cell of 3; ballot 2: 71 in a cell of 3, 55 and 101 up to renaming in
//!   cells of 5 and 7). Fewer promises than acceptors are reached as losses.
//! - Promises of another ballot (a stale promise of the proposer's own earlier ballot, or of
//!   another proposer's): not reached; only promises of the running ballot arrive.
//! - The client's value is `v2`, given before the round; a proposer with no client value, or
//!   one given in the middle of phase 1: not reached.
//! - Phase 2: the `2b` replies to the proposal: not reached (the learner's files hear votes).
//! - Acceptor names: a cell of 3 walks every naming; cells of 5 and 7 number the acceptors in
//!   order of what they report, so a proposer that favours one node id is tested against one
//!   naming there. Ballot 2 in a cell of 7: no duplicates.
//!
//! # Multi-Paxos (`tla/MultiPaxos.tla`)
//!
//! The model is `MultiPaxos_a3_r1_c1_b1_s2.cfg` (3 acceptors, 1 replica, 1 command `c1` and
//! `NoOp`, ballots `0..1`, slots 1 and 2, no compaction) unless said otherwise. Compaction
//! (`MaxCompaction = 1`: snapshots and compaction of slot 1) is reached by the follower, the
//! leader, the replica and catch-up, as said under each; compaction past slot 1, and an
//! acceptor compacting in the middle of a round: not reached.
//!
//! **Follower** ([`crate::multipaxos::follower`], `multipaxos_follower.rs`). Acceptor `a1`.
//!
//! - Prior states: every `(maxBal, votes in slots 1 and 2)` of `a1` the model reaches that is
//!   consistent with the scenario.
//! - Messages: four scenarios from the leaders of ballots 0 and 1: both slots out of order with
//!   a new leader's `1a`; a hole in slot 1 filled with `NoOp`; a re-proposal by a new leader; an
//!   old and a new leader proposing. Slot 3 and above, ballot 2 and above, two commands: not
//!   reached. Every `1a` asks about every slot, as the spec's does; a `Prepare` whose
//!   `first_slot` is above 1: not reached.
//! - One table serves cells of 3, 5 and 7 (the acceptor's transitions do not depend on the
//!   size); coverage: 61 of 61 transitions of `a1`.
//! - Compaction: `a1` compacted through slot 1, from every `(maxBal, votes, compacted = 1)` some
//!   acceptor of the two-slot model with `MaxCompaction = 1` reaches (searched up to acceptor
//!   permutation), hearing the same four scenarios: 13 of 13 transitions of compacted
//!   acceptors. Compacted through slot 2: not reached.
//!
//! **Leader** ([`crate::multipaxos::leader`], `multipaxos_leader_n*.rs`).
//!
//! - Ballots and slots: the leader of ballot 1 with two slots and one command (votes in several
//!   slots, holes); the leader of ballot 2 with one slot and two commands (votes of ballots 0
//!   and 1 for different commands). Two slots and votes of two earlier ballots at once: not
//!   reached.
//! - Promise sets: every set of one promise per acceptor of the highest ballot the model can
//!   have in flight (cells of 5 and 7 up to renaming; in a cell of 7 none duplicated).
//! - Compaction: the leader of ballot 1 with one slot and two commands
//!   (`MultiPaxos_a3_r1_c2_b1_s1_k1.cfg`), whose promises may say their acceptor compacted the
//!   slot: 46 sets in a cell of 3, and up to renaming 36 in a cell of 5 and 64 in a cell of 7
//!   (none duplicated), from the reduced search of [`crate::multipaxos::promises`], which keeps
//!   the replica and the votes until the slot is applied. Two slots with compaction (a
//!   compacted slot below a vote or a hole), and compaction with two replicas or with a
//!   snapshot short of the last slot: not reached.
//! - Commands waiting when the leader wins phase 1: every scenario is walked from two starts,
//!   the election timeout with no command waiting (the leader proposes only in the slots up to
//!   the highest reported vote) and a client's command (the model's last: `c1` with one
//!   command, `c2` with two) proposed to a replica that knows of no leader, which queues it and
//!   starts the ballot. The command must go to the first slot above every reported vote and
//!   every compacted slot, as a value the model's `Phase2a` allows there; where that slot is
//!   past the model's slots (slot 3 of the two-slot model, slot 2 of the one-slot ones) the
//!   harness checks the slot and the command by its rule alone. Several commands waiting
//!   (batched into one entry, or spread over several slots), a command proposed in the middle
//!   of phase 1 or after it, and a waiting command that does not fit the pipeline: not reached;
//!   those are exercised by the curated stories and the random transaction workloads.
//! - Promises of the leader's own earlier ballot arriving after it started a higher one: in a
//!   cell of 3, where the harness gives rounds 0 and 2 to node 3, the leader of ballot 2 hears
//!   each of its 71 promise sets with one promise of ballot 0 that the model has in flight in
//!   the same state (every acceptor's is, with every set: 213 scenarios), lost, duplicated and
//!   reordered with the others; the model's tables count it for nothing. Two or three of them
//!   in one scenario, promises of the earlier ballot reporting votes (ballot 0 has none below
//!   it), and cells of 5 and 7 (where the leader of ballot 2 owns no earlier round: round 0 is
//!   node `n`'s, and its promises go there): not reached. The leader of ballot 1 owns no
//!   earlier round either. Promises of another node's ballot never reach a leader: they go to
//!   their own proposer (the harness refuses a scenario that delivers one).
//! - The pipeline bound (`slots_in_flight_max`), heartbeats while leading, and the `2b` replies
//!   to its proposals: not reached.
//!
//! **Replica** ([`crate::multipaxos::replica`], `multipaxos_replica_n*.rs`).
//!
//! - Votes for slots 1 and 2 in three scenarios: slot 2 decided before slot 1; a hole filled with
//!   `NoOp` by the leader of ballot 1; votes of ballots 0 and 1 for the same command in slot 1.
//!   Votes of two ballots for different commands in one slot, and slot 3 and above: not reached.
//!   In a cell of 7 none duplicated.
//! - After a snapshot: replica 1 restarted from a snapshot through slot 1 with nothing decided
//!   after it, from the two-slot model with `MaxCompaction = 1`, in two scenarios: the quorum's
//!   votes for slot 1 arriving again after the snapshot covers it, with a quorum's votes for
//!   slot 2; and votes of ballots 0 and 1 in slot 2, of which only ballot 1's make a quorum.
//!   Every combination in a cell of 3, folded in cells of 5 and 7 (none duplicated in 7). A
//!   replica that snapshots or installs a snapshot in the middle of the votes, a snapshot
//!   through slot 2, and a replica holding decided entries after its snapshot: not reached.
//!
//! **Catch-up** ([`crate::multipaxos::catch_up`], `multipaxos_catch_up.rs`).
//!
//! - Peer logs: every non-empty log the model's replica applies (4), and replica 1 behind it by
//!   every shorter prefix; the leader's heartbeats and the peer's replies; and the same logs
//!   with the peer's snapshot through slot 1, its replies starting above it and its snapshot
//!   arriving (`InstallSnapshot`). A reply longer than two entries, a snapshot through slot 2,
//!   and a peer itself behind: not reached.
//!
//! # Cell transactions ([`crate::cell`], `cell_transactions.rs`)
//!
//! - Keys `a` and `b`; states: `a` absent, `Int(1)`, `Bytes('x')` or `Bool(true)`, `b` absent
//!   or `Int(2)` (8 states).
//! - Conditions: none, one, or two in an order that decides which fails first. `Exists` and
//!   `Absent` of each key; `Equals` on `a` of the same type and value, of the same type and
//!   another value (`Int(7)`, `Bytes('y')`, `Bool(false)`) and of another type; on `b`, the
//!   same and another integer. Three or more conditions, or two on one key: not reached.
//! - Operations: one or two of `Read(a)`, `Write(a, Int(5))`, `Delete(a)`, `Increment(a, 1)`,
//!   `Increment(b, -3)`. Writes of bytes or booleans, operations on `b` other than the
//!   increment, three or more operations: not reached.
//! - Value shapes: integers that fit in an `i64` and single-letter byte strings only; integers
//!   past 64 bits, an increment that overflows 64 bits, empty or long byte strings, and values
//!   at the size bound: not reached here (the cell's property tests in `impl/core/tests/` draw
//!   integers past 64 bits and at the bound, and byte strings of up to 3 bytes, against a
//!   reference implementation).
