//! The transactions money moves by, one function each, with ids derived
//! from what they do (so a retry is the same transaction):
//!
//! | move | from | to |
//! |---|---|---|
//! | fund | client funding (external) | the milestone's escrow |
//! | release | escrow | freelancer payable − fee, platform revenue + fee |
//! | refund | escrow | client refunds |
//! | settle | escrow | client refunds + freelancer payable − fee + fee |
//! | payout | freelancer payable | freelancer paid out |

use frevix_platform::money::{Currency, Money};
use uuid::Uuid;

use super::account::{Account, AccountKind};
use super::transaction::{LedgerError, Posting, Transaction, TransactionId, TransactionKind};

/// The parties and milestone of an escrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escrow {
    pub contract: Uuid,
    pub milestone: Uuid,
    pub client: Uuid,
    pub freelancer: Uuid,
    pub currency: Currency,
}

impl Escrow {
    fn account(&self) -> Account {
        Account::escrow(self.milestone, self.currency)
    }

    fn of(&self, kind: AccountKind, owner: Uuid) -> Account {
        Account::new(kind, owner, self.currency)
    }

    fn amount(&self, money: Money) -> Result<i64, LedgerError> {
        if money.currency != self.currency || money.minor_units <= 0 {
            return Err(LedgerError::BadAmount(money.to_string()));
        }
        Ok(money.minor_units)
    }

    fn transaction(
        &self,
        kind: TransactionKind,
        postings: Vec<Posting>,
    ) -> Result<Transaction, LedgerError> {
        let postings = postings.into_iter().filter(|p| p.amount != 0).collect();
        Ok(Transaction::new(
            TransactionId::of(kind, self.milestone),
            kind,
            self.currency,
            postings,
        )?
        .about(self.contract, Some(self.milestone)))
    }

    /// The client's payment (the provider's `charge`) into escrow.
    pub fn fund(&self, amount: Money, charge: &str) -> Result<Transaction, LedgerError> {
        let amount = self.amount(amount)?;
        let postings = vec![
            posting(self.of(AccountKind::ClientFunding, self.client), -amount),
            posting(self.account(), amount),
        ];
        Ok(self
            .transaction(TransactionKind::Fund, postings)?
            .applying(charge))
    }

    /// `amount` of escrow to the freelancer, `fee` of it to the platform.
    pub fn release(&self, amount: Money, fee: i64) -> Result<Transaction, LedgerError> {
        let amount = self.amount(amount)?;
        check_fee(fee, amount)?;
        self.transaction(
            TransactionKind::Release,
            vec![
                posting(self.account(), -amount),
                posting(
                    self.of(AccountKind::FreelancerPayable, self.freelancer),
                    amount - fee,
                ),
                posting(
                    Account::platform(AccountKind::PlatformRevenue, self.currency),
                    fee,
                ),
            ],
        )
    }

    /// `amount` of escrow back to the client.
    pub fn refund(&self, amount: Money) -> Result<Transaction, LedgerError> {
        let amount = self.amount(amount)?;
        self.transaction(
            TransactionKind::Refund,
            vec![
                posting(self.account(), -amount),
                posting(self.of(AccountKind::ClientRefunds, self.client), amount),
            ],
        )
    }

    fn disputed(&self) -> Account {
        Account::new(AccountKind::Disputed, self.milestone, self.currency)
    }

    /// A card dispute holds `held` of the escrow (what was not released
    /// before it came).
    pub fn chargeback(&self, held: i64) -> Result<Transaction, LedgerError> {
        positive(held)?;
        self.transaction(
            TransactionKind::Chargeback,
            vec![
                posting(self.account(), -held),
                posting(self.disputed(), held),
            ],
        )
    }

    /// The dispute was won: what it held goes back to escrow.
    pub fn chargeback_won(&self, held: i64) -> Result<Transaction, LedgerError> {
        positive(held)?;
        self.transaction(
            TransactionKind::ChargebackWon,
            vec![
                posting(self.disputed(), -held),
                posting(self.account(), held),
            ],
        )
    }

    /// The dispute was lost: the client's bank gave them `disputed`; `held`
    /// of it came from the dispute's hold, the rest (money released before
    /// the dispute came) is the platform's loss, through the provider.
    pub fn chargeback_lost(&self, held: i64, disputed: i64) -> Result<Transaction, LedgerError> {
        positive(disputed)?;
        if held < 0 || held > disputed {
            return Err(LedgerError::BadAmount(format!(
                "{held} held of {disputed} disputed"
            )));
        }
        self.transaction(
            TransactionKind::ChargebackLost,
            vec![
                posting(self.disputed(), -held),
                posting(
                    Account::platform(AccountKind::ProviderFees, self.currency),
                    -(disputed - held),
                ),
                posting(self.of(AccountKind::ClientRefunds, self.client), disputed),
            ],
        )
    }

    /// A split: `refund` to the client, `release` to the freelancer with
    /// `fee` (taken on the released part only) to the platform.
    pub fn settle(&self, refund: i64, release: i64, fee: i64) -> Result<Transaction, LedgerError> {
        if refund < 0 || release < 0 || refund.checked_add(release).is_none_or(|sum| sum <= 0) {
            return Err(LedgerError::BadAmount(format!(
                "{refund} refunded and {release} released"
            )));
        }
        check_fee(fee, release)?;
        self.transaction(
            TransactionKind::Settle,
            vec![
                posting(self.account(), -(refund + release)),
                posting(self.of(AccountKind::ClientRefunds, self.client), refund),
                posting(
                    self.of(AccountKind::FreelancerPayable, self.freelancer),
                    release - fee,
                ),
                posting(
                    Account::platform(AccountKind::PlatformRevenue, self.currency),
                    fee,
                ),
            ],
        )
    }
}

/// `amount` of `freelancer`'s earnings out through the provider's
/// `transfer` (the id of the payout it makes).
pub fn payout(
    payout: Uuid,
    freelancer: Uuid,
    amount: Money,
    transfer: &str,
) -> Result<Transaction, LedgerError> {
    if amount.minor_units <= 0 {
        return Err(LedgerError::BadAmount(amount.to_string()));
    }
    let account = |kind| Account::new(kind, freelancer, amount.currency);
    Ok(Transaction::new(
        TransactionId::of(TransactionKind::Payout, payout),
        TransactionKind::Payout,
        amount.currency,
        vec![
            posting(account(AccountKind::FreelancerPayable), -amount.minor_units),
            posting(account(AccountKind::FreelancerPaidOut), amount.minor_units),
        ],
    )?
    .applying(transfer))
}

fn posting(account: Account, amount: i64) -> Posting {
    Posting { account, amount }
}

/// The platform's fee on `released` minor units at `bps` basis points,
/// rounded down (the freelancer keeps the fraction of a cent).
pub fn fee(released: i64, bps: u32) -> i64 {
    let fee = i128::from(released) * i128::from(bps) / 10_000;
    i64::try_from(fee)
        .unwrap_or(i64::MAX)
        .clamp(0, released.max(0))
}

fn positive(amount: i64) -> Result<(), LedgerError> {
    if amount <= 0 {
        return Err(LedgerError::BadAmount(amount.to_string()));
    }
    Ok(())
}

fn check_fee(fee: i64, of: i64) -> Result<(), LedgerError> {
    if fee < 0 || fee > of {
        return Err(LedgerError::BadAmount(format!("a fee of {fee} on {of}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fee_is_rounded_down_and_never_more_than_released() {
        assert_eq!(fee(10_000, 1_000), 1_000);
        assert_eq!(fee(999, 1_000), 99);
        assert_eq!(fee(1, 5_000), 0);
        assert_eq!(fee(0, 1_000), 0);
        assert_eq!(fee(i64::MAX, 10_000), i64::MAX);
    }

    fn escrow() -> Escrow {
        Escrow {
            contract: Uuid::now_v7(),
            milestone: Uuid::now_v7(),
            client: Uuid::now_v7(),
            freelancer: Uuid::now_v7(),
            currency: Currency::USD,
        }
    }

    #[test]
    fn a_release_without_a_fee_has_no_revenue_posting() {
        let release = escrow()
            .release(Money::new(Currency::USD, 1_000), 0)
            .unwrap();
        assert_eq!(release.postings().len(), 2);
        assert_eq!(
            release.id().as_str(),
            format!("release:{}", release.milestone_id.unwrap())
        );
    }

    #[test]
    fn amounts_fees_and_currencies_are_checked() {
        let e = escrow();
        let eur = Currency::from_code("EUR").unwrap();
        for refused in [
            e.fund(Money::new(Currency::USD, 0), "ch"),
            e.fund(Money::new(eur, 100), "ch"),
            e.release(Money::new(Currency::USD, 100), 101),
            e.release(Money::new(Currency::USD, 100), -1),
            e.settle(0, 0, 0),
            e.settle(-1, 10, 0),
            e.settle(10, 10, 11),
        ] {
            assert!(
                matches!(refused, Err(LedgerError::BadAmount(_))),
                "{refused:?}"
            );
        }
        let split = e.settle(300, 700, 70).unwrap();
        let sum: i64 = split.postings().iter().map(|p| p.amount).sum();
        assert_eq!((split.postings().len(), sum), (4, 0));
    }
}
