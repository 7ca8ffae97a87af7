//! A ledger transaction: postings that sum to zero in one currency, under
//! an id derived from what the transaction does (`release:<milestone>`), so
//! doing the same thing twice is the same transaction, written once.

use std::fmt;

use frevix_platform::money::Currency;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::account::Account;

/// Most postings one transaction has (a split touches five accounts).
pub const MAX_POSTINGS: usize = 16;

/// Longest transaction id.
const MAX_ID: usize = 200;

/// Why a transaction cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("a transaction id is 1 to {MAX_ID} printable ASCII characters")]
    BadId,
    #[error("a transaction has 2 to {MAX_POSTINGS} postings")]
    PostingCount,
    #[error("a posting of zero")]
    ZeroPosting,
    #[error("not an amount this move takes: {0}")]
    BadAmount(String),
    #[error("account {0} is posted to twice")]
    RepeatedAccount(String),
    #[error("account {account} is in {found}, the transaction in {expected}")]
    CurrencyMismatch {
        account: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("the postings sum to {0}, not zero")]
    Unbalanced(i128),
    #[error("transaction {0} was written before with other postings")]
    Conflict(String),
    #[error("transaction {0} would take an account below zero")]
    Overdrawn(String),
    #[error("provider object {0} was applied already, by another transaction")]
    ProviderRefTaken(String),
}

/// What a transaction does, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionKind {
    /// A client's payment arrives in a milestone's escrow.
    Fund,
    /// Escrow goes to the freelancer, minus the platform's fee.
    Release,
    /// Escrow goes back to the client.
    Refund,
    /// A cancelled or disputed milestone's escrow split between both.
    Settle,
    /// A freelancer's earnings transferred to their payout account.
    Payout,
    /// A transfer taken back.
    PayoutReversal,
    /// A card dispute holds a milestone's escrow.
    Chargeback,
    /// The dispute was won: the money goes back to escrow.
    ChargebackWon,
    /// The dispute was lost: the client's bank gave it back to them.
    ChargebackLost,
}

impl TransactionKind {
    pub const ALL: [TransactionKind; 9] = [
        TransactionKind::Fund,
        TransactionKind::Release,
        TransactionKind::Refund,
        TransactionKind::Settle,
        TransactionKind::Payout,
        TransactionKind::PayoutReversal,
        TransactionKind::Chargeback,
        TransactionKind::ChargebackWon,
        TransactionKind::ChargebackLost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TransactionKind::Fund => "fund",
            TransactionKind::Release => "release",
            TransactionKind::Refund => "refund",
            TransactionKind::Settle => "settle",
            TransactionKind::Payout => "payout",
            TransactionKind::PayoutReversal => "payout_reversal",
            TransactionKind::Chargeback => "chargeback",
            TransactionKind::ChargebackWon => "chargeback_won",
            TransactionKind::ChargebackLost => "chargeback_lost",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A transaction's id: what it does, e.g. `release:<milestone id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransactionId(String);

impl TransactionId {
    pub fn new(id: impl Into<String>) -> Result<Self, LedgerError> {
        let id = id.into();
        let printable = id.bytes().all(|b| b.is_ascii_graphic());
        if id.is_empty() || id.len() > MAX_ID || !printable {
            return Err(LedgerError::BadId);
        }
        Ok(Self(id))
    }

    /// `<kind>:<subject>`, the usual shape.
    pub fn of(kind: TransactionKind, subject: Uuid) -> Self {
        Self(format!("{}:{subject}", kind.as_str()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One line of a transaction: `amount` added to `account`'s balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posting {
    pub account: Account,
    pub amount: i64,
}

/// A balanced transaction, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    id: TransactionId,
    kind: TransactionKind,
    currency: Currency,
    postings: Vec<Posting>,
    pub contract_id: Option<Uuid>,
    pub milestone_id: Option<Uuid>,
    /// The provider's object or event this applies (a charge, a refund, a
    /// transfer): applied at most once across the whole ledger.
    pub provider_ref: Option<String>,
}

impl Transaction {
    /// Checks the rules every transaction meets: 2 to [`MAX_POSTINGS`]
    /// postings, none of zero, each account once, all in `currency`,
    /// summing to zero.
    pub fn new(
        id: TransactionId,
        kind: TransactionKind,
        currency: Currency,
        postings: Vec<Posting>,
    ) -> Result<Self, LedgerError> {
        if !(2..=MAX_POSTINGS).contains(&postings.len()) {
            return Err(LedgerError::PostingCount);
        }
        let mut sum: i128 = 0;
        for (i, posting) in postings.iter().enumerate() {
            if posting.amount == 0 {
                return Err(LedgerError::ZeroPosting);
            }
            if posting.account.currency != currency.code() {
                return Err(LedgerError::CurrencyMismatch {
                    account: posting.account.key(),
                    expected: currency.code(),
                    found: posting.account.currency,
                });
            }
            if postings[..i].iter().any(|p| p.account == posting.account) {
                return Err(LedgerError::RepeatedAccount(posting.account.key()));
            }
            sum += i128::from(posting.amount);
        }
        if sum != 0 {
            return Err(LedgerError::Unbalanced(sum));
        }
        Ok(Self {
            id,
            kind,
            currency,
            postings,
            contract_id: None,
            milestone_id: None,
            provider_ref: None,
        })
    }

    /// The same transaction, about `contract` and `milestone`.
    pub fn about(mut self, contract: Uuid, milestone: Option<Uuid>) -> Self {
        self.contract_id = Some(contract);
        self.milestone_id = milestone;
        self
    }

    /// The same transaction, applying the provider's object `reference`.
    pub fn applying(mut self, reference: impl Into<String>) -> Self {
        self.provider_ref = Some(reference.into());
        self
    }

    pub fn id(&self) -> &TransactionId {
        &self.id
    }

    pub fn kind(&self) -> TransactionKind {
        self.kind
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn postings(&self) -> &[Posting] {
        &self.postings
    }

    /// A digest of everything the transaction says, in a canonical order:
    /// a replay with the same id must have the same fingerprint.
    pub fn fingerprint(&self) -> String {
        let mut lines: Vec<String> = self
            .postings
            .iter()
            .map(|p| format!("{}={}", p.account, p.amount))
            .collect();
        lines.sort();
        let optional = |id: Option<Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
        let text = format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.id,
            self.kind.as_str(),
            self.currency.code(),
            optional(self.contract_id),
            optional(self.milestone_id),
            self.provider_ref.as_deref().unwrap_or_default(),
            lines.join(";")
        );
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::AccountKind;

    fn funding(amount: i64) -> Vec<Posting> {
        let client = Uuid::now_v7();
        let milestone = Uuid::now_v7();
        vec![
            Posting {
                account: Account::new(AccountKind::ClientFunding, client, Currency::USD),
                amount: -amount,
            },
            Posting {
                account: Account::escrow(milestone, Currency::USD),
                amount,
            },
        ]
    }

    fn id() -> TransactionId {
        TransactionId::of(TransactionKind::Fund, Uuid::now_v7())
    }

    #[test]
    fn a_balanced_transaction_is_accepted() {
        let txn = Transaction::new(id(), TransactionKind::Fund, Currency::USD, funding(500));
        assert!(txn.is_ok());
    }

    #[test]
    fn what_breaks_the_rules_is_refused() {
        let fund = TransactionKind::Fund;
        let mut unbalanced = funding(500);
        unbalanced[1].amount = 499;
        assert_eq!(
            Transaction::new(id(), fund, Currency::USD, unbalanced),
            Err(LedgerError::Unbalanced(-1))
        );
        assert_eq!(
            Transaction::new(id(), fund, Currency::USD, funding(500)[..1].to_vec()),
            Err(LedgerError::PostingCount)
        );
        assert_eq!(
            Transaction::new(id(), fund, Currency::USD, funding(0)),
            Err(LedgerError::ZeroPosting)
        );
        let eur = Currency::from_code("EUR").unwrap();
        assert!(matches!(
            Transaction::new(id(), fund, eur, funding(500)),
            Err(LedgerError::CurrencyMismatch { .. })
        ));
        let mut twice = funding(500);
        twice[1].account = twice[0].account;
        assert!(matches!(
            Transaction::new(id(), fund, Currency::USD, twice),
            Err(LedgerError::RepeatedAccount(_))
        ));
        let huge = vec![funding(i64::MAX)[1], funding(i64::MAX)[1], funding(1)[0]];
        assert!(
            matches!(
                Transaction::new(id(), fund, Currency::USD, huge),
                Err(LedgerError::Unbalanced(_))
            ),
            "sums do not overflow"
        );
        assert_eq!(TransactionId::new(""), Err(LedgerError::BadId));
        assert_eq!(TransactionId::new("a b"), Err(LedgerError::BadId));
    }

    #[test]
    fn the_fingerprint_follows_the_content_not_the_order() {
        let postings = funding(500);
        let id = id();
        let a = Transaction::new(
            id.clone(),
            TransactionKind::Fund,
            Currency::USD,
            postings.clone(),
        )
        .unwrap();
        let reversed: Vec<Posting> = postings.iter().rev().copied().collect();
        let b =
            Transaction::new(id.clone(), TransactionKind::Fund, Currency::USD, reversed).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        let c = a.clone().applying("ch_1");
        assert_ne!(a.fingerprint(), c.fingerprint());
    }
}
