---------------------------- MODULE MultiPaxosBugs ----------------------------
(***************************************************************************)
(* Deliberately broken compaction, one operator per way to fail, so that  *)
(* TLC shows each caught with a counterexample.  A bug's .cfg replaces     *)
(* one operator of MultiPaxos.tla with its broken version here, e.g.      *)
(*                                                                         *)
(*     CONSTANTS CompactTo <- CompactPastSnapshot                          *)
(*                                                                         *)
(* and the model reads the same line as its --bug (model/src/multipaxos/  *)
(* bugs.rs), so TLC and the model check one broken protocol from one file. *)
(***************************************************************************)
EXTENDS MultiPaxos

(* An acceptor forgets its vote in one slot past the snapshot it compacts *)
(* to: a slot that may not be chosen, and that no snapshot holds.          *)
CompactPastSnapshot(r) == IF snapshot[r] < NumSlots THEN snapshot[r] + 1
                                                   ELSE snapshot[r]

(* A leader takes no notice of how far its quorum compacted, and proposes *)
(* in a compacted slot as if nobody had voted there.                      *)
IgnoreCompacted(Q1b, s) == FALSE

(* A replica installs a snapshot under the slot after the snapshot's, so  *)
(* it resumes one slot too late: that slot's command never takes effect   *)
(* in its state, which is the state it would have after NoOp there.       *)
SnapshotLogOneSlotLate(p) == Append(SubSeq(applied[p], 1, snapshot[p]), NoOp)

=============================================================================
