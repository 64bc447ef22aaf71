----------------------------- MODULE MultiPaxos -----------------------------
(***************************************************************************)
(* Multi-Paxos: a log of slots, each decided by Paxos, in the message-set *)
(* style of Paxos.tla (every message ever sent stays in msgs, so loss,    *)
(* duplication and reordering are implicit).                               *)
(*                                                                         *)
(* Each ballot has one distinguished proposer, its leader, which owns it: *)
(* every 1a and 2a message of ballot b is the leader of b's.  A leader    *)
(* runs phase 1 once for the whole log: a promise reports the acceptor's  *)
(* latest vote in every slot.  It then runs phase 2 per slot, as many     *)
(* slots at once as it likes, proposing in each slot the value of the     *)
(* highest-ballot vote its quorum reported there; a slot where nobody     *)
(* reported a vote but a later slot has one is a hole, filled with NoOp;  *)
(* a slot above every reported vote is free for a new client command.    *)
(* (A real leader asks only about slots from the first one it does not    *)
(* know to be decided; reporting every slot is the same protocol with a   *)
(* longer message, and keeps the spec small.)                             *)
(*                                                                         *)
(* Replicas apply the log.  Votes (2b) go to every replica, and a replica *)
(* applies a slot's value once it has heard a quorum vote for it in one   *)
(* ballot, in slot order.  A lagging replica catches up from a peer that  *)
(* applied more (a real one asks for the entries it misses).  In Colony   *)
(* every node is an acceptor and a replica; the spec counts replicas on   *)
(* their own, because each one multiplies the state space and two are    *)
(* enough to compare logs.                                                *)
(*                                                                         *)
(* Compaction.  A replica may snapshot its applied prefix (the state     *)
(* after it, with its slot), and an acceptor may then forget its votes   *)
(* in the slots a snapshot covers, which are chosen and applied.  A      *)
(* promise says how far its acceptor compacted, and a leader never       *)
(* proposes in a slot its quorum compacted: the slot is decided, and the  *)
(* vote that would have told the leader its value is gone.  A replica    *)
(* that lags behind a peer's snapshot installs the snapshot, since the   *)
(* peer no longer has the entries below it.  MaxCompaction bounds the    *)
(* slots a snapshot may cover; 0 turns compaction off, and the state     *)
(* space is then the same as without it.                                  *)
(*                                                                         *)
(* Reads are linearizable because they go through the log: a read is a   *)
(* command like any other, and its result is the state after the log     *)
(* prefix up to its slot.  No clock is assumed.                           *)
(*                                                                         *)
(* As in Paxos.tla, the constants are numbers so that one .cfg configures *)
(* TLC and the model, and every \E in an action is a meaningful witness.  *)
(***************************************************************************)
EXTENDS Integers, Sequences, FiniteSets

CONSTANTS NumAcceptors, \* how many acceptors take part
          NumReplicas,  \* how many replicas apply the log
          NumCommands,  \* how many distinct client commands may be proposed
          MaxBallot,    \* ballots are 0..MaxBallot
          NumSlots,     \* the log's slots are 1..NumSlots
          MaxCompaction \* snapshots cover at most slots 1..MaxCompaction

ASSUME /\ NumAcceptors \in Nat \ {0}
       /\ NumReplicas \in Nat \ {0}
       /\ NumCommands \in Nat \ {0}
       /\ MaxBallot \in Nat
       /\ NumSlots \in Nat \ {0}
       /\ MaxCompaction \in 0..NumSlots

Acceptor == 1..NumAcceptors
Replica  == 1..NumReplicas
Command  == 1..NumCommands
Ballot   == 0..MaxBallot
Slot     == 1..NumSlots

NoOp     == 0                  \* the value that fills a hole in the log
Value    == Command \cup {NoOp}
None     == -1                 \* "no value": not an element of Value
NoBallot == -1                 \* "no ballot": below every element of Ballot

(* A quorum is any strict majority of the acceptors. *)
Quorum == {Q \in SUBSET Acceptor : 2 * Cardinality(Q) > NumAcceptors}

(* An acceptor's latest vote in one slot. *)
Vote   == [bal : Ballot \cup {NoBallot}, val : Value \cup {None}]
NoVote == [bal |-> NoBallot, val |-> None]

Message ==
       [type : {"1a"}, bal : Ballot]
  \cup [type : {"1b"}, acc : Acceptor, bal : Ballot, votes : [Slot -> Vote],
        compacted : 0..NumSlots]
  \cup [type : {"2a"}, bal : Ballot, slot : Slot, val : Value]
  \cup [type : {"2b"}, acc : Acceptor, bal : Ballot, slot : Slot, val : Value]

VARIABLES maxBal,    \* maxBal[a]: the highest ballot a promised or voted in
          votes,     \* votes[a][s]: a's latest vote in slot s
          compacted, \* compacted[a]: a forgot its votes in slots 1..compacted[a]
          msgs,      \* every message ever sent
          applied,   \* applied[r]: the values replica r applied, slot 1 first
          snapshot   \* snapshot[r]: r's snapshot covers slots 1..snapshot[r]

vars == <<maxBal, votes, compacted, msgs, applied, snapshot>>

Send(m) == msgs' = msgs \cup {m}

-----------------------------------------------------------------------------
(***************************************************************************)
(* The actions.                                                            *)
(***************************************************************************)

Init == /\ maxBal    = [a \in Acceptor |-> NoBallot]
        /\ votes     = [a \in Acceptor |-> [s \in Slot |-> NoVote]]
        /\ compacted = [a \in Acceptor |-> 0]
        /\ msgs      = {}
        /\ applied   = [r \in Replica |-> <<>>]
        /\ snapshot  = [r \in Replica |-> 0]

(* The leader of ballot b starts it by asking every acceptor for a        *)
(* promise, for the whole log.                                            *)
Phase1a(b) == /\ Send([type |-> "1a", bal |-> b])
              /\ UNCHANGED <<maxBal, votes, compacted, applied, snapshot>>

(* Acceptor a promises a ballot above every ballot it promised before,    *)
(* and reports its latest vote in every slot and how far it compacted.    *)
Phase1b(a) ==
  \E m \in msgs :
     /\ m.type = "1a"
     /\ m.bal > maxBal[a]
     /\ maxBal' = [maxBal EXCEPT ![a] = m.bal]
     /\ Send([type |-> "1b", acc |-> a, bal |-> m.bal, votes |-> votes[a],
              compacted |-> compacted[a]])
     /\ UNCHANGED <<votes, compacted, applied, snapshot>>

(* Whether one of the promises Q1b comes from an acceptor that compacted  *)
(* slot s.  Such a slot is chosen and in a snapshot, and the vote that    *)
(* would tell a leader its value may be gone, so a leader never proposes  *)
(* there.                                                                 *)
CompactedIn(Q1b, s) == \E m \in Q1b : m.compacted >= s

(* The values the leader of ballot b may propose in slot s after hearing  *)
(* the promises of quorum Q: none when one of them compacted s; the value *)
(* of the highest-ballot vote reported in s; NoOp when nobody reported a  *)
(* vote in s but somebody did in a later slot (a hole); any command when  *)
(* s is above every reported vote.                                        *)
SafeValues(Q, b, s) ==
  LET Q1b       == {m \in msgs : m.type = "1b" /\ m.acc \in Q /\ m.bal = b}
      VotedIn(t) == {m \in Q1b : m.votes[t].bal # NoBallot}
      Top       == {m \in VotedIn(s) :
                      \A mm \in VotedIn(s) : m.votes[s].bal >= mm.votes[s].bal}
      Hole      == \E t \in Slot : t > s /\ VotedIn(t) # {}
  IN  IF {m.acc : m \in Q1b} # Q THEN {}
      ELSE IF CompactedIn(Q1b, s) THEN {}
      ELSE IF VotedIn(s) # {} THEN {m.votes[s].val : m \in Top}
      ELSE IF Hole THEN {NoOp}
      ELSE Command

(* The leader of ballot b proposes v in slot s, once per ballot and slot, *)
(* after a quorum promised b.  Slots are independent: several may be in   *)
(* flight at once.                                                        *)
Phase2a(b, s, v) ==
  /\ ~ \E m \in msgs : m.type = "2a" /\ m.bal = b /\ m.slot = s
  /\ \E Q \in Quorum : v \in SafeValues(Q, b, s)
  /\ Send([type |-> "2a", bal |-> b, slot |-> s, val |-> v])
  /\ UNCHANGED <<maxBal, votes, compacted, applied, snapshot>>

(* Acceptor a votes for a proposal whose ballot is at least its promise, *)
(* in a slot it has not compacted (that slot is decided already).         *)
Phase2b(a) ==
  \E m \in msgs :
     /\ m.type = "2a"
     /\ m.bal >= maxBal[a]
     /\ m.slot > compacted[a]
     /\ maxBal' = [maxBal EXCEPT ![a] = m.bal]
     /\ votes'  = [votes EXCEPT ![a][m.slot] = [bal |-> m.bal, val |-> m.val]]
     /\ Send([type |-> "2b", acc |-> a, bal |-> m.bal, slot |-> m.slot,
              val |-> m.val])
     /\ UNCHANGED <<compacted, applied, snapshot>>

VotedForIn(a, s, v, b) ==
  \E m \in msgs : /\ m.type = "2b" /\ m.acc = a /\ m.slot = s
                  /\ m.bal = b /\ m.val = v

ChosenIn(s, v, b) == \E Q \in Quorum : \A a \in Q : VotedForIn(a, s, v, b)

Chosen(s, v) == \E b \in Ballot : ChosenIn(s, v, b)

(* The values chosen in slot s: a set, so that TLC evaluates the         *)
(* witnesses of Chosen as a condition and does not split the action on   *)
(* them (the model mirrors one action per value).                        *)
ChosenValues(s) == {v \in Value : Chosen(s, v)}

(* Replica r applies the next slot of its log, once it has heard a       *)
(* quorum vote for one value in it in one ballot.                         *)
Apply(r) ==
  LET s == Len(applied[r]) + 1
  IN  /\ s \in Slot
      /\ \E v \in ChosenValues(s) :
            applied' = [applied EXCEPT ![r] = Append(@, v)]
      /\ UNCHANGED <<maxBal, votes, compacted, msgs, snapshot>>

(* A lagging replica r catches up one slot from peer p, which applied     *)
(* more and still has the entry: the slot is above p's snapshot.          *)
CatchUp(r) ==
  \E p \in Replica :
     /\ Len(applied[p]) > Len(applied[r])
     /\ Len(applied[r]) >= snapshot[p]
     /\ applied' = [applied EXCEPT ![r] = Append(@, applied[p][Len(@) + 1])]
     /\ UNCHANGED <<maxBal, votes, compacted, msgs, snapshot>>

(* Replica r snapshots its applied prefix: the state after it, with its   *)
(* slot, made durable so that the entries below can go.                   *)
Snapshot(r) ==
  /\ snapshot[r] < Len(applied[r])
  /\ Len(applied[r]) <= MaxCompaction
  /\ snapshot' = [snapshot EXCEPT ![r] = Len(applied[r])]
  /\ UNCHANGED <<maxBal, votes, compacted, msgs, applied>>

(* The last slot whose vote an acceptor forgets when it compacts up to    *)
(* replica r's snapshot.                                                  *)
CompactTo(r) == snapshot[r]

(* Acceptor a forgets its votes in the slots a snapshot covers: they are  *)
(* chosen and applied, and the snapshot holds their values.  In Colony    *)
(* an acceptor compacts up to its own node's snapshot; any replica's     *)
(* snapshot allows more behaviours, so what holds here holds there.      *)
Compact(a) ==
  \E r \in Replica :
     /\ CompactTo(r) > compacted[a]
     /\ compacted' = [compacted EXCEPT ![a] = CompactTo(r)]
     /\ votes' = [votes EXCEPT ![a] = [s \in Slot |->
                     IF s <= CompactTo(r) THEN NoVote ELSE @[s]]]
     /\ UNCHANGED <<maxBal, msgs, applied, snapshot>>

(* The log whose state p's snapshot holds: its first snapshot[p] values.  *)
SnapshotLog(p) == SubSeq(applied[p], 1, snapshot[p])

(* A replica r that lags behind peer p's snapshot installs it: p no       *)
(* longer has the entries below it.  The installed snapshot is r's own.   *)
InstallSnapshot(r) ==
  \E p \in Replica :
     /\ snapshot[p] > Len(applied[r])
     /\ applied'  = [applied EXCEPT ![r] = SnapshotLog(p)]
     /\ snapshot' = [snapshot EXCEPT ![r] = snapshot[p]]
     /\ UNCHANGED <<maxBal, votes, compacted, msgs>>

Next == \/ \E b \in Ballot : \/ Phase1a(b)
                             \/ \E s \in Slot, v \in Value : Phase2a(b, s, v)
        \/ \E a \in Acceptor : \/ Phase1b(a)
                               \/ Phase2b(a)
                               \/ Compact(a)
        \/ \E r \in Replica : \/ Apply(r)
                               \/ CatchUp(r)
                               \/ Snapshot(r)
                               \/ InstallSnapshot(r)

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(***************************************************************************)
(* Safety.                                                                 *)
(***************************************************************************)

TypeOK == /\ maxBal    \in [Acceptor -> Ballot \cup {NoBallot}]
          /\ votes     \in [Acceptor -> [Slot -> Vote]]
          /\ compacted \in [Acceptor -> 0..NumSlots]
          /\ msgs \subseteq Message
          /\ \A r \in Replica : /\ Len(applied[r]) <= NumSlots
                                 /\ \A i \in 1..Len(applied[r]) :
                                       applied[r][i] \in Value
          /\ snapshot  \in [Replica -> 0..NumSlots]

(* At most one value is chosen in each slot. *)
Agreement ==
  \A s \in Slot : \A v1, v2 \in Value : Chosen(s, v1) /\ Chosen(s, v2) => v1 = v2

(* A leader proposes at most one value per slot in its ballot. *)
OneValuePerBallot ==
  \A m1, m2 \in msgs :
     (/\ m1.type = "2a" /\ m2.type = "2a"
      /\ m1.bal = m2.bal /\ m1.slot = m2.slot) => m1.val = m2.val

(* Acceptor a has not voted in slot s in ballot b and never will. *)
WontVoteIn(a, s, b) == /\ \A v \in Value : ~ VotedForIn(a, s, v, b)
                       /\ maxBal[a] > b

(* No value other than v has been or can be chosen in slot s in any       *)
(* ballot below b.                                                         *)
SafeAt(s, v, b) ==
  \A c \in 0..(b - 1) :
     \E Q \in Quorum : \A a \in Q : VotedForIn(a, s, v, c) \/ WontVoteIn(a, s, c)

(* Every vote is for a value safe in its slot at its ballot. *)
VotesSafe == \A m \in msgs : m.type = "2b" => SafeAt(m.slot, m.val, m.bal)

(* Every value a replica applied was chosen in its slot. *)
AppliedChosen ==
  \A r \in Replica : \A i \in 1..Len(applied[r]) : Chosen(i, applied[r][i])

IsPrefix(s, t) == Len(s) <= Len(t) /\ SubSeq(t, 1, Len(s)) = s

(* Every replica applies the same sequence of commands: of any two        *)
(* replicas' logs, one is a prefix of the other.  So the key-value state  *)
(* each replica exposes is the state after a prefix of one serial history *)
(* (the longest log), which is what makes reads through the log          *)
(* linearizable.                                                           *)
SameSequence ==
  \A r1, r2 \in Replica : IsPrefix(applied[r1], applied[r2])
                           \/ IsPrefix(applied[r2], applied[r1])

(* Compaction loses no chosen value: a value chosen in a slot is in a     *)
(* replica's snapshot, or every quorum still holds a vote for it, so that *)
(* a new leader hears of it.                                               *)
NoChosenValueLost ==
  \A s \in Slot : \A v \in ChosenValues(s) :
     \/ \E r \in Replica : snapshot[r] >= s
     \/ \A Q \in Quorum : \E a \in Q : votes[a][s].val = v

=============================================================================
