//! The milestone machine: the paths a milestone takes, the refusals that
//! guard it, and (property tests) that no sequence of commands, however
//! random, leaves its money inconsistent.

use frevix_platform::money::{Currency, Money};
use proptest::prelude::*;

use super::*;

const AMOUNT: i64 = 50_000;

fn milestone() -> Milestone {
    Milestone::new(Money::new(Currency::USD, AMOUNT))
}

fn run(commands: &[MilestoneCommand]) -> Result<Milestone, Refusal> {
    commands
        .iter()
        .try_fold(milestone(), |m, command| m.apply(*command))
}

use MilestoneCommand as C;

#[test]
fn the_happy_path_ends_released() {
    let m = run(&[
        C::Fund { amount: AMOUNT },
        C::Submit,
        C::RequestRevision { allowed: Some(1) },
        C::Submit,
        C::Approve,
        C::Approve,
        C::Release { amount: AMOUNT },
    ])
    .unwrap();
    assert_eq!(m.status, MilestoneStatus::Released);
    assert_eq!(
        (m.funded, m.released, m.refunded, m.held()),
        (AMOUNT, AMOUNT, 0, 0)
    );
    assert_eq!(m.revisions_used, 1);
}

#[test]
fn each_step_needs_the_one_before() {
    assert_eq!(run(&[C::Submit]), Err(Refusal::NotFunded));
    assert_eq!(run(&[C::Approve]), Err(Refusal::NotSubmitted));
    let funded = [C::Fund { amount: AMOUNT }];
    assert_eq!(run(&[funded[0], C::Approve]), Err(Refusal::NotSubmitted));
    assert_eq!(
        run(&[funded[0], C::Fund { amount: AMOUNT }]),
        Err(Refusal::AlreadyFunded)
    );
    assert_eq!(
        run(&[C::Fund { amount: AMOUNT - 1 }]),
        Err(Refusal::AmountMismatch)
    );
    assert_eq!(
        run(&[funded[0], C::Submit, C::Submit]),
        Err(Refusal::AlreadySubmitted)
    );
    assert_eq!(
        run(&[funded[0], C::Release { amount: AMOUNT }]),
        Err(Refusal::NotApproved)
    );
    assert_eq!(
        run(&[funded[0], C::Refund { amount: 1 }]),
        Err(Refusal::NotSettling)
    );
    assert_eq!(run(&[funded[0], C::Cancel]), Err(Refusal::AlreadyFunded));
}

#[test]
fn revisions_stop_at_what_the_order_includes() {
    let two_rounds = [
        C::Fund { amount: AMOUNT },
        C::Submit,
        C::RequestRevision { allowed: Some(1) },
        C::Submit,
        C::RequestRevision { allowed: Some(1) },
    ];
    let error = run(&two_rounds).unwrap_err();
    assert_eq!(error, Refusal::RevisionsExhausted);
    assert_eq!(error.reason(), "REVISIONS_EXHAUSTED");
    // Job contracts have no limit.
    let mut commands = vec![C::Fund { amount: AMOUNT }];
    for _ in 0..20 {
        commands.extend([C::Submit, C::RequestRevision { allowed: None }]);
    }
    assert_eq!(run(&commands).unwrap().revisions_used, 20);
}

#[test]
fn a_settlement_divides_escrow_and_closes_when_it_is_empty() {
    let settling = [C::Fund { amount: AMOUNT }, C::Submit, C::Settle];
    let split = run(&[
        settling[0],
        settling[1],
        settling[2],
        C::Release { amount: 20_000 },
        C::Refund { amount: 30_000 },
    ])
    .unwrap();
    assert_eq!(split.status, MilestoneStatus::Split);
    assert_eq!(split.held(), 0);
    let refunded = run(&[
        settling[0],
        settling[1],
        settling[2],
        C::Refund { amount: AMOUNT },
    ]);
    assert_eq!(refunded.unwrap().status, MilestoneStatus::Refunded);
    assert_eq!(
        run(&[
            settling[0],
            settling[1],
            settling[2],
            C::Refund { amount: AMOUNT + 1 }
        ]),
        Err(Refusal::MoreThanHeld)
    );
    // An approved milestone is owed to the freelancer: no settlement takes it.
    let approved = [C::Fund { amount: AMOUNT }, C::Submit, C::Approve, C::Settle];
    assert_eq!(run(&approved), Err(Refusal::Closed));
}

#[test]
fn statuses_read_back_as_stored() {
    for status in MilestoneStatus::ALL {
        assert_eq!(MilestoneStatus::parse(status.as_str()), Some(status));
    }
}

fn command() -> impl Strategy<Value = MilestoneCommand> {
    // Amounts around the milestone's, including wrong ones.
    let amount = prop_oneof![
        Just(AMOUNT),
        Just(AMOUNT / 2),
        Just(AMOUNT / 5),
        Just(0),
        Just(-1),
        Just(AMOUNT + 1),
        1..=AMOUNT,
    ];
    prop_oneof![
        amount.clone().prop_map(|amount| C::Fund { amount }),
        Just(C::Submit),
        prop::option::of(0..3i32).prop_map(|allowed| C::RequestRevision { allowed }),
        Just(C::Approve),
        Just(C::Cancel),
        Just(C::Settle),
        amount.clone().prop_map(|amount| C::Release { amount }),
        amount.prop_map(|amount| C::Refund { amount }),
    ]
}

/// What must hold of a milestone after anything.
fn consistent(m: &Milestone) -> Result<(), String> {
    use MilestoneStatus as S;
    let ok = |holds: bool, what: &str| {
        if holds {
            Ok(())
        } else {
            Err(format!("{what}: {m:?}"))
        }
    };
    ok(
        m.funded == 0 || m.funded == m.amount.minor_units,
        "funded is all or nothing",
    )?;
    ok(m.released >= 0 && m.refunded >= 0, "no negative movement")?;
    ok(m.held() >= 0, "escrow never below zero")?;
    ok(
        (m.status == S::Pending || m.status == S::Cancelled) == (m.funded == 0),
        "funded exactly when past pending",
    )?;
    if m.status == S::Approved {
        ok(
            m.held() == m.amount.minor_units,
            "an approved milestone holds all of it",
        )?;
    }
    if m.status.is_in_progress() || m.status == S::Approved {
        ok(
            m.released == 0 && m.refunded == 0,
            "nothing leaves escrow before settling",
        )?;
    }
    match m.status {
        S::Released => ok(m.refunded == 0 && m.released == m.funded, "released all")?,
        S::Refunded => ok(m.released == 0 && m.refunded == m.funded, "refunded all")?,
        S::Split => ok(
            m.released > 0 && m.refunded > 0 && m.released + m.refunded == m.funded,
            "split all of it",
        )?,
        _ => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn no_sequence_of_commands_leaves_the_money_inconsistent(
        commands in prop::collection::vec(command(), 0..40)
    ) {
        let mut m = milestone();
        for command in commands {
            let before = m;
            if let Ok(next) = m.apply(command) {
                m = next;
            }
            if let Err(broken) = consistent(&m) {
                return Err(TestCaseError::fail(broken));
            }
            if before.status.is_closed() {
                prop_assert_eq!(m, before, "a closed milestone never changes");
            }
            if let MilestoneCommand::RequestRevision { allowed: Some(allowed) } = command
                && m.revisions_used > before.revisions_used
            {
                prop_assert!(m.revisions_used <= allowed, "revisions within the limit");
            }
        }
    }
}
