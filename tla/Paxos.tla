------------------------------- MODULE Paxos -------------------------------
(***************************************************************************)
(* Single-decree Paxos in the message-set style of Lamport's Paxos.tla.    *)
(*                                                                         *)
(* The network is one set, msgs, of every message ever sent.  A message   *)
(* is never removed, so a receiver may act on it any number of times, in  *)
(* any order, or never: loss, duplication and reordering are all implicit.*)
(*                                                                         *)
(* Proposers have no state of their own: a proposer of ballot b is the    *)
(* sender of the 1a and 2a messages of b, and everything it knows is in   *)
(* msgs.  Acceptors keep three variables:                                  *)
(*   maxBal[a]   the highest ballot a has promised (or voted in), -1 if none *)
(*   maxVBal[a]  the highest ballot a has voted in, -1 if none             *)
(*   maxVal[a]   the value a voted for in maxVBal[a], None if none         *)
(*                                                                         *)
(* The constants are numbers, so that one .cfg file configures both TLC   *)
(* and the Stateright model in model/.                                     *)
(*                                                                         *)
(* TLC splits an action into one generated state per witness of every    *)
(* \E and per true disjunct of every \/ at the action level; the model    *)
(* mirrors this exactly, which is why the guards below are written as    *)
(* set comparisons wherever a witness would carry no meaning.             *)
(***************************************************************************)
EXTENDS Integers, FiniteSets

CONSTANTS NumAcceptors, \* how many acceptors take part
          NumValues,    \* how many distinct values may be proposed
          MaxBallot     \* ballots are 0..MaxBallot

ASSUME /\ NumAcceptors \in Nat \ {0}
       /\ NumValues \in Nat \ {0}
       /\ MaxBallot \in Nat

Acceptor == 1..NumAcceptors
Value    == 1..NumValues
Ballot   == 0..MaxBallot

None     == 0    \* "no value": not an element of Value
NoBallot == -1   \* "no ballot": below every element of Ballot

(* A quorum is any strict majority of the acceptors. *)
Quorum == {Q \in SUBSET Acceptor : 2 * Cardinality(Q) > NumAcceptors}

Message ==
       [type : {"1a"}, bal : Ballot]
  \cup [type : {"1b"}, acc : Acceptor, bal : Ballot,
        mbal : Ballot \cup {NoBallot}, mval : Value \cup {None}]
  \cup [type : {"2a"}, bal : Ballot, val : Value]
  \cup [type : {"2b"}, acc : Acceptor, bal : Ballot, val : Value]

VARIABLES maxBal, maxVBal, maxVal, msgs

vars == <<maxBal, maxVBal, maxVal, msgs>>

Send(m) == msgs' = msgs \cup {m}

-----------------------------------------------------------------------------
(***************************************************************************)
(* The actions.                                                            *)
(***************************************************************************)

Init == /\ maxBal  = [a \in Acceptor |-> NoBallot]
        /\ maxVBal = [a \in Acceptor |-> NoBallot]
        /\ maxVal  = [a \in Acceptor |-> None]
        /\ msgs    = {}

(* A proposer starts ballot b by asking every acceptor for a promise. *)
Phase1a(b) == /\ Send([type |-> "1a", bal |-> b])
              /\ UNCHANGED <<maxBal, maxVBal, maxVal>>

(* Acceptor a promises a ballot above every ballot it promised before,    *)
(* and reports its latest vote.                                           *)
Phase1b(a) ==
  \E m \in msgs :
     /\ m.type = "1a"
     /\ m.bal > maxBal[a]
     /\ maxBal' = [maxBal EXCEPT ![a] = m.bal]
     /\ Send([type |-> "1b", acc |-> a, bal |-> m.bal,
              mbal |-> maxVBal[a], mval |-> maxVal[a]])
     /\ UNCHANGED <<maxVBal, maxVal>>

(* The values a proposer of ballot b may propose after hearing the 1b     *)
(* messages of quorum Q: the value of the highest-ballot vote reported,   *)
(* or any value when no member of Q reported a vote.                      *)
SafeValues(Q, b) ==
  LET Q1b  == {m \in msgs : m.type = "1b" /\ m.acc \in Q /\ m.bal = b}
      Q1bv == {m \in Q1b : m.mbal # NoBallot}
      Top  == {m \in Q1bv : \A mm \in Q1bv : m.mbal >= mm.mbal}
  IN  IF {m.acc : m \in Q1b} # Q THEN {}
      ELSE IF Q1bv = {} THEN Value
      ELSE {m.mval : m \in Top}

(* The proposer of ballot b proposes v, once per ballot, after a quorum   *)
(* promised b.                                                            *)
Phase2a(b, v) ==
  /\ ~ \E m \in msgs : m.type = "2a" /\ m.bal = b
  /\ \E Q \in Quorum : v \in SafeValues(Q, b)
  /\ Send([type |-> "2a", bal |-> b, val |-> v])
  /\ UNCHANGED <<maxBal, maxVBal, maxVal>>

(* Acceptor a votes for a proposal whose ballot is at least its promise. *)
Phase2b(a) ==
  \E m \in msgs :
     /\ m.type = "2a"
     /\ m.bal >= maxBal[a]
     /\ maxBal'  = [maxBal  EXCEPT ![a] = m.bal]
     /\ maxVBal' = [maxVBal EXCEPT ![a] = m.bal]
     /\ maxVal'  = [maxVal  EXCEPT ![a] = m.val]
     /\ Send([type |-> "2b", acc |-> a, bal |-> m.bal, val |-> m.val])

Next == \/ \E b \in Ballot : \/ Phase1a(b)
                             \/ \E v \in Value : Phase2a(b, v)
        \/ \E a \in Acceptor : \/ Phase1b(a)
                               \/ Phase2b(a)

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(***************************************************************************)
(* Safety.  Agreement is the property Paxos exists for; the others are    *)
(* the facts about messages and acceptor state that the proof of          *)
(* Agreement rests on, each checked on its own so that a broken protocol  *)
(* is caught as close to its cause as possible.                           *)
(***************************************************************************)

TypeOK == /\ maxBal  \in [Acceptor -> Ballot \cup {NoBallot}]
          /\ maxVBal \in [Acceptor -> Ballot \cup {NoBallot}]
          /\ maxVal  \in [Acceptor -> Value \cup {None}]
          /\ msgs \subseteq Message

VotedForIn(a, v, b) ==
  \E m \in msgs : m.type = "2b" /\ m.acc = a /\ m.bal = b /\ m.val = v

ChosenIn(v, b) == \E Q \in Quorum : \A a \in Q : VotedForIn(a, v, b)

Chosen(v) == \E b \in Ballot : ChosenIn(v, b)

(* At most one value is chosen. *)
Agreement == \A v1, v2 \in Value : Chosen(v1) /\ Chosen(v2) => v1 = v2

(* A proposer proposes at most one value in a ballot. *)
OneValuePerBallot ==
  \A m1, m2 \in msgs :
     (m1.type = "2a" /\ m2.type = "2a" /\ m1.bal = m2.bal) => m1.val = m2.val

(* Acceptor a has not voted in ballot b and never will. *)
WontVoteIn(a, b) == /\ \A v \in Value : ~ VotedForIn(a, v, b)
                    /\ maxBal[a] > b

(* No value other than v has been or can be chosen in any ballot below b. *)
SafeAt(v, b) ==
  \A c \in 0..(b - 1) :
     \E Q \in Quorum : \A a \in Q : VotedForIn(a, v, c) \/ WontVoteIn(a, c)

(* Every vote is for a value safe at its ballot. *)
VotesSafe == \A m \in msgs : m.type = "2b" => SafeAt(m.val, m.bal)

(* An acceptor's promise is at least the ballot of its latest vote. *)
PromiseAtLeastVote == \A a \in Acceptor : maxVBal[a] <= maxBal[a]

(* An acceptor's vote variables describe its latest vote in msgs. *)
VoteRecorded ==
  \A a \in Acceptor :
     /\ (maxVBal[a] = NoBallot) <=> (maxVal[a] = None)
     /\ maxVBal[a] # NoBallot => VotedForIn(a, maxVal[a], maxVBal[a])
     /\ \A c \in Ballot : c > maxVBal[a] => \A v \in Value : ~ VotedForIn(a, v, c)

(* A promise reports the acceptor's latest vote below the promised ballot. *)
PromiseReportsLatestVote ==
  \A m \in msgs :
     m.type = "1b" =>
        /\ m.bal <= maxBal[m.acc]
        /\ m.mbal # NoBallot => VotedForIn(m.acc, m.mval, m.mbal)
        /\ \A c \in (m.mbal + 1)..(m.bal - 1) :
              \A v \in Value : ~ VotedForIn(m.acc, v, c)

=============================================================================
