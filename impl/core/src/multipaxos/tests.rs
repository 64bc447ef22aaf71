//! The replica's refusals: every bad configuration and every refused proposal names why. The
//! protocol itself is checked by the generated tests and the random runs in `generated-tests/`.

use super::*;
use crate::group::{MembersError, NodeId};

fn config(id: u8, members: &[u8]) -> Config {
    Config::new(NodeId(id), members.iter().map(|&m| NodeId(m)).collect())
}

#[test]
fn bad_configurations_are_refused_with_the_reason() {
    let limit = |name, value, max| ConfigError::Limit { name, value, max };
    let cases = [
        (config(1, &[]), MembersError::Count(0).into()),
        (
            config(1, &[1, 1]),
            MembersError::Duplicate(NodeId(1)).into(),
        ),
        (
            config(4, &[1, 2, 3]),
            MembersError::NotAMember(NodeId(4)).into(),
        ),
        (
            Config {
                heartbeat_ticks: 10,
                ..config(1, &[1, 2, 3])
            },
            ConfigError::Timers {
                heartbeat_ticks: 10,
                election_ticks: 10,
            },
        ),
        (
            Config {
                slots_in_flight_max: 0,
                ..config(1, &[1, 2, 3])
            },
            limit("slots_in_flight_max", 0, SLOTS_IN_FLIGHT_MAX as u64),
        ),
        (
            Config {
                batch_bytes_max: ENTRY_BYTES_MAX + 1,
                ..config(1, &[1, 2, 3])
            },
            limit(
                "batch_bytes_max",
                ENTRY_BYTES_MAX as u64 + 1,
                ENTRY_BYTES_MAX as u64,
            ),
        ),
    ];
    for (config, error) in cases {
        assert_eq!(Replica::new(config, Durable::default()).unwrap_err(), error);
    }
}

#[test]
fn proposals_are_refused_with_the_reason_and_nothing_queued() {
    let mut replica = Replica::new(config(1, &[1, 2, 3]), Durable::default()).unwrap();
    let too_long = Command(vec![0; COMMAND_BYTES_MAX + 1]);
    assert_eq!(
        replica.propose(too_long).unwrap_err(),
        ProposeError::CommandTooLong {
            bytes: COMMAND_BYTES_MAX + 1,
            max: COMMAND_BYTES_MAX
        }
    );
    assert_eq!(replica.pending_count(), 0);

    let mut small = Config {
        pending_commands_max: 1,
        ..config(1, &[1, 2, 3])
    };
    small.election_ticks = 5;
    let mut replica = Replica::new(small, Durable::default()).unwrap();
    let ready = replica.propose(Command(b"a".to_vec())).unwrap();
    assert_eq!(
        ready.messages.len(),
        3,
        "no leader known: it starts a ballot"
    );
    assert_eq!(
        replica.propose(Command(b"b".to_vec())).unwrap_err(),
        ProposeError::QueueFull { max: 1 }
    );

    let mut follower = Replica::new(config(2, &[1, 2, 3]), Durable::default()).unwrap();
    let prepare = ready.messages[0].message.clone();
    let _ = follower.step(Input::Message {
        from: NodeId(1),
        message: prepare,
    });
    assert_eq!(
        follower.propose(Command(b"c".to_vec())).unwrap_err(),
        ProposeError::NotLeader { leader: NodeId(1) }
    );
    assert_eq!(follower.pending_count(), 0);
}
