//! Card disputes, opened and closed as the cardholder's bank would (Stripe
//! opens them for `pm_card_createDispute`; a test or an operator opens
//! and closes others through the stand-in's own controls).

use crate::bodies;
use crate::call::Events;
use crate::objects::{Book, Dispute, new_id, now};

/// Disputes what is left of `charge`; the dispute's id, or `None` when
/// there is no such charge or it is disputed already.
pub fn open(book: &mut Book, charge: &str, events: &mut Events) -> Option<String> {
    let found = book.charges.get(charge)?;
    if found.disputed {
        return None;
    }
    let dispute = Dispute {
        id: new_id("du"),
        charge: charge.to_owned(),
        payment_intent: found.payment_intent.clone(),
        amount: found.amount - found.amount_refunded,
        currency: found.currency.clone(),
        reason: "fraudulent".to_owned(),
        status: "needs_response",
        created: now(),
    };
    book.move_balance(
        "adjustment",
        -dispute.amount,
        &dispute.currency,
        &dispute.id,
    );
    if let Some(found) = book.charges.get_mut(charge) {
        found.disputed = true;
    }
    events.push("charge.dispute.created", bodies::dispute(&dispute));
    let id = dispute.id.clone();
    book.disputes.insert(id.clone(), dispute);
    Some(id)
}

/// Closes `dispute`: won gives the money back to the platform.
pub fn close(book: &mut Book, dispute: &str, won: bool, events: &mut Events) -> bool {
    let Some(found) = book.disputes.get_mut(dispute) else {
        return false;
    };
    if found.status != "needs_response" {
        return false;
    }
    found.status = if won { "won" } else { "lost" };
    let found = found.clone();
    if won {
        book.move_balance("adjustment", found.amount, &found.currency, &found.id);
    }
    events.push("charge.dispute.closed", bodies::dispute(&found));
    true
}
