//! Ledger accounts: what kind of money, whose, in which currency.

use std::fmt;

use frevix_platform::money::Currency;
use uuid::Uuid;

/// What an account holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountKind {
    /// A client's money coming in from their card (external: its balance is
    /// minus what the client paid in).
    ClientFunding,
    /// One milestone's money held until it is released or refunded.
    Escrow,
    /// What a freelancer has earned and not yet been paid out.
    FreelancerPayable,
    /// What a freelancer has been paid out (transferred to their account).
    FreelancerPaidOut,
    /// What went back to a client.
    ClientRefunds,
    /// The platform's fees.
    PlatformRevenue,
    /// What the payment provider charged (external).
    ProviderFees,
    /// One milestone's escrow the client's bank disputed (a chargeback),
    /// held until the dispute is won (back to escrow) or lost (back to the
    /// client).
    Disputed,
}

impl AccountKind {
    pub const ALL: [AccountKind; 8] = [
        AccountKind::ClientFunding,
        AccountKind::Escrow,
        AccountKind::FreelancerPayable,
        AccountKind::FreelancerPaidOut,
        AccountKind::ClientRefunds,
        AccountKind::PlatformRevenue,
        AccountKind::ProviderFees,
        AccountKind::Disputed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::ClientFunding => "client_funding",
            AccountKind::Escrow => "escrow",
            AccountKind::FreelancerPayable => "freelancer_payable",
            AccountKind::FreelancerPaidOut => "freelancer_paid_out",
            AccountKind::ClientRefunds => "client_refunds",
            AccountKind::PlatformRevenue => "platform_revenue",
            AccountKind::ProviderFees => "provider_fees",
            AccountKind::Disputed => "disputed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// Only accounts that stand for the world outside may go below zero.
    pub fn may_go_negative(self) -> bool {
        matches!(self, AccountKind::ClientFunding | AccountKind::ProviderFees)
    }
}

/// One account of the ledger. The platform's own accounts have the nil
/// owner; the others belong to an account (client, freelancer) or a
/// milestone (escrow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Account {
    pub kind: AccountKind,
    pub owner: Uuid,
    pub currency: &'static str,
}

impl Account {
    pub fn new(kind: AccountKind, owner: Uuid, currency: Currency) -> Self {
        Self {
            kind,
            owner,
            currency: currency.code(),
        }
    }

    pub fn escrow(milestone: Uuid, currency: Currency) -> Self {
        Self::new(AccountKind::Escrow, milestone, currency)
    }

    pub fn platform(kind: AccountKind, currency: Currency) -> Self {
        Self::new(kind, Uuid::nil(), currency)
    }

    /// The account's key as stored: `kind:owner:currency`.
    pub fn key(&self) -> String {
        self.to_string()
    }

    /// The account a stored key names.
    pub fn parse(key: &str) -> Option<Self> {
        let mut parts = key.split(':');
        let (kind, owner, currency) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            kind: AccountKind::parse(kind)?,
            owner: Uuid::parse_str(owner).ok()?,
            currency: Currency::from_code(currency)?.code(),
        })
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.kind.as_str(), self.owner, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_names_its_account() {
        let account = Account::escrow(Uuid::now_v7(), Currency::USD);
        assert_eq!(Account::parse(&account.key()), Some(account));
        assert_eq!(Account::parse("escrow:not-a-uuid:USD"), None);
        assert_eq!(
            Account::parse(&format!("escrow:{}:XYZ", Uuid::nil())),
            None,
            "an unsupported currency"
        );
    }
}
