//! GetBalance: the caller's money per currency, from the ledger's balances.

use std::collections::BTreeMap;

use frevix_platform::request::caller;
use frevix_proto::payments::v1 as pb;
use tonic::Request;

use crate::Inner;
use crate::error::Result;
use crate::store::views::{self, Figure};

pub async fn get(
    inner: &Inner,
    request: Request<pb::GetBalanceRequest>,
) -> Result<pb::GetBalanceResponse> {
    let caller = caller(&request)?;
    let figures = views::figures(&inner.db, caller.account_id.0).await?;
    Ok(pb::GetBalanceResponse {
        balances: balances(&figures),
    })
}

/// One balance per currency, by code.
fn balances(figures: &[Figure]) -> Vec<pb::Balance> {
    let mut by_currency: BTreeMap<&str, pb::Balance> = BTreeMap::new();
    for figure in figures {
        let balance = by_currency
            .entry(&figure.currency)
            .or_insert_with(|| pb::Balance {
                currency_code: figure.currency.clone(),
                ..pb::Balance::default()
            });
        let amount = figure.minor_units;
        match figure.kind.as_str() {
            // What came in from the client's card: the account is external
            // and goes below zero by what was paid.
            "client_funding" => balance.client_spent -= amount,
            "client_refunds" => balance.client_refunded += amount,
            "escrow_as_client" => balance.client_in_escrow += amount,
            "escrow_as_freelancer" => balance.freelancer_in_escrow += amount,
            "disputed_as_client" => balance.client_in_dispute += amount,
            "freelancer_payable" => balance.freelancer_payable += amount,
            "freelancer_paid_out" => balance.freelancer_paid_out += amount,
            _ => {}
        }
    }
    // Paid, less what is still held and what came back: what was spent.
    for balance in by_currency.values_mut() {
        balance.client_spent -=
            balance.client_in_escrow + balance.client_in_dispute + balance.client_refunded;
    }
    by_currency.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(kind: &str, minor_units: i64) -> Figure {
        Figure {
            kind: kind.into(),
            currency: "USD".into(),
            minor_units,
        }
    }

    #[test]
    fn spent_is_paid_less_held_and_refunded() {
        let balances = balances(&[
            figure("client_funding", -10_000),
            figure("client_refunds", 2_000),
            figure("escrow_as_client", 3_000),
            figure("freelancer_payable", 900),
        ]);
        assert_eq!(
            balances,
            vec![pb::Balance {
                currency_code: "USD".into(),
                client_in_escrow: 3_000,
                client_spent: 5_000,
                client_refunded: 2_000,
                freelancer_payable: 900,
                ..pb::Balance::default()
            }]
        );
    }
}
