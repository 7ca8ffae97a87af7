//! What the stand-in keeps: the objects Frevix creates and moves, in
//! memory, as Stripe's own records of them. The platform's balance and its
//! balance transactions follow from charges, refunds, transfers and
//! disputes as they do at Stripe.

use std::collections::{BTreeMap, HashMap};

use rand::Rng;

/// How a test card behaves when confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Card {
    /// Charged (brand, last four digits).
    Pays(&'static str, &'static str),
    /// Charged, then disputed by the cardholder's bank.
    PaysThenDisputed,
    /// Declined (message, decline code).
    Declined(&'static str, &'static str),
    /// Asks the cardholder to authenticate (3-D Secure).
    Authenticates,
    /// Saved on a customer, then declined when charged.
    SavesThenDeclines,
}

impl Card {
    /// Stripe's test payment methods (`pm_card_…`).
    pub fn of_token(token: &str) -> Option<Card> {
        Some(match token {
            "pm_card_visa" => Card::Pays("visa", "4242"),
            "pm_card_mastercard" => Card::Pays("mastercard", "4444"),
            "pm_card_amex" => Card::Pays("amex", "8431"),
            "pm_card_createDispute" => Card::PaysThenDisputed,
            "pm_card_chargeDeclined" => {
                Card::Declined("Your card was declined.", "generic_decline")
            }
            "pm_card_chargeDeclinedInsufficientFunds" => {
                Card::Declined("Your card has insufficient funds.", "insufficient_funds")
            }
            "pm_card_authenticationRequired" => Card::Authenticates,
            "pm_card_chargeCustomerFail" => Card::SavesThenDeclines,
            _ => return None,
        })
    }

    pub fn brand(self) -> (&'static str, &'static str) {
        match self {
            Card::Pays(brand, last4) => (brand, last4),
            Card::PaysThenDisputed => ("visa", "0259"),
            Card::Declined(_, "insufficient_funds") => ("visa", "9995"),
            Card::Declined(..) => ("visa", "0002"),
            Card::Authenticates => ("visa", "3184"),
            Card::SavesThenDeclines => ("visa", "0341"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PaymentIntent {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub status: &'static str,
    pub customer: Option<String>,
    pub payment_method: Option<String>,
    pub transfer_group: Option<String>,
    pub metadata: Vec<(String, String)>,
    pub latest_charge: Option<String>,
    /// The last failed attempt: (message, code, decline code).
    pub last_error: Option<(String, &'static str, &'static str)>,
    pub return_url: Option<String>,
    /// Captured by hand (`capture_method=manual`).
    pub manual: bool,
    pub created: i64,
}

#[derive(Debug, Clone)]
pub struct Charge {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub payment_intent: String,
    pub payment_method: String,
    pub card: Card,
    pub amount_refunded: i64,
    /// Sent onward to connected accounts with this charge as the source.
    pub amount_transferred: i64,
    pub disputed: bool,
    pub transfer_group: Option<String>,
    pub balance_transaction: String,
    pub created: i64,
}

#[derive(Debug, Clone)]
pub struct Refund {
    pub id: String,
    pub charge: String,
    pub payment_intent: String,
    pub amount: i64,
    pub currency: String,
    pub balance_transaction: String,
    pub metadata: Vec<(String, String)>,
    pub created: i64,
}

#[derive(Debug, Clone)]
pub struct Customer {
    pub id: String,
    pub metadata: Vec<(String, String)>,
    pub created: i64,
}

/// A card saved on a customer (`pm_…` made from a test token).
#[derive(Debug, Clone)]
pub struct PaymentMethod {
    pub id: String,
    pub card: Card,
    pub customer: Option<String>,
    pub created: i64,
}

#[derive(Debug, Clone)]
pub struct SetupIntent {
    pub id: String,
    pub customer: Option<String>,
    pub payment_method: Option<String>,
    pub status: &'static str,
    pub usage: String,
    pub created: i64,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub country: String,
    pub email: Option<String>,
    pub metadata: Vec<(String, String)>,
    /// Onboarding finished: charges and payouts enabled.
    pub onboarded: bool,
    pub created: i64,
}

#[derive(Debug, Clone)]
pub struct Reversal {
    pub id: String,
    pub amount: i64,
    pub created: i64,
}

#[derive(Debug, Clone)]
pub struct Transfer {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub destination: String,
    pub transfer_group: Option<String>,
    pub source_transaction: Option<String>,
    pub metadata: Vec<(String, String)>,
    pub reversals: Vec<Reversal>,
    pub balance_transaction: String,
    pub created: i64,
}

impl Transfer {
    pub fn amount_reversed(&self) -> i64 {
        self.reversals.iter().map(|r| r.amount).sum()
    }
}

#[derive(Debug, Clone)]
pub struct Dispute {
    pub id: String,
    pub charge: String,
    pub payment_intent: String,
    pub amount: i64,
    pub currency: String,
    pub reason: String,
    /// `needs_response`, `won` or `lost`.
    pub status: &'static str,
    pub created: i64,
}

/// A movement of the platform's balance, as Stripe itemizes it.
#[derive(Debug, Clone)]
pub struct BalanceTransaction {
    pub id: String,
    /// `charge`, `refund`, `transfer`, `transfer_refund`, `adjustment`.
    pub kind: &'static str,
    pub amount: i64,
    pub currency: String,
    /// The object that moved it (`ch_…`, `re_…`, `tr_…`, `trr_…`, `du_…`).
    pub source: String,
    pub created: i64,
}

/// An answer kept under an idempotency key.
#[derive(Debug, Clone)]
pub struct Kept {
    pub fingerprint: String,
    pub status: u16,
    pub body: serde_json::Value,
}

/// Everything the stand-in holds.
#[derive(Debug, Default)]
pub struct Book {
    pub intents: BTreeMap<String, PaymentIntent>,
    pub charges: BTreeMap<String, Charge>,
    pub refunds: BTreeMap<String, Refund>,
    pub customers: BTreeMap<String, Customer>,
    pub methods: BTreeMap<String, PaymentMethod>,
    pub setup_intents: BTreeMap<String, SetupIntent>,
    pub accounts: BTreeMap<String, Account>,
    pub transfers: BTreeMap<String, Transfer>,
    pub disputes: BTreeMap<String, Dispute>,
    pub balance: Vec<BalanceTransaction>,
    /// By (connected account or "", key).
    pub kept: HashMap<(String, String), Kept>,
}

/// A new object id with Stripe's prefix (`pi_…`, `ch_…`).
pub fn new_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..24)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    format!("{prefix}_{tail}")
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Book {
    /// Records a movement of the platform's balance; answers its id.
    pub fn move_balance(
        &mut self,
        kind: &'static str,
        amount: i64,
        currency: &str,
        source: &str,
    ) -> String {
        let id = new_id("txn");
        self.balance.push(BalanceTransaction {
            id: id.clone(),
            kind,
            amount,
            currency: currency.to_owned(),
            source: source.to_owned(),
            created: now(),
        });
        id
    }

    /// The card behind a payment method id: a test token or a saved `pm_…`.
    pub fn card_of(&self, payment_method: &str) -> Option<Card> {
        Card::of_token(payment_method).or_else(|| self.methods.get(payment_method).map(|m| m.card))
    }

    /// What a charge still has to give: not refunded, not sent onward.
    pub fn charge_left(&self, charge: &Charge) -> i64 {
        charge.amount - charge.amount_refunded - charge.amount_transferred
    }
}
