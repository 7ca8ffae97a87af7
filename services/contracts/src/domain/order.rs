//! What a gig order costs and when it is due, from contracts' own copy of
//! the gig's packages and extras (as marketplace last published them), never
//! from numbers a buyer sends.

use chrono::{DateTime, Duration, Utc};
use frevix_platform::error::FieldViolations;
use frevix_platform::money::Money;
use uuid::Uuid;

/// The most of one package a buyer orders at once.
pub const MAX_QUANTITY: i32 = 10;
/// The most extras one order takes.
pub const MAX_EXTRAS: usize = 10;

/// A package as contracts knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageTerms {
    /// 1 basic, 2 standard, 3 premium.
    pub tier: i32,
    pub price: Money,
    pub delivery_days: i32,
    pub revisions: i32,
}

/// An extra as contracts knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraTerms {
    pub id: Uuid,
    pub price: Money,
    pub extra_days: i32,
}

/// What an order costs and promises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// (package + extras) × quantity.
    pub total: Money,
    /// Counted from when the buyer's requirements arrive.
    pub delivery_days: i32,
    pub revisions: i32,
    /// The extras bought, in the order given, each once.
    pub extras: Vec<Uuid>,
}

/// Prices `quantity` of `package` with the extras `chosen` (ids of
/// `offered`), reporting every wrong field at once.
pub fn quote(
    package: &PackageTerms,
    offered: &[ExtraTerms],
    chosen: &[Uuid],
    quantity: i32,
) -> Result<Quote, FieldViolations> {
    let mut violations = FieldViolations::new();
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        violations.add("quantity", "must be 1 to 10");
    }
    if chosen.len() > MAX_EXTRAS {
        violations.add("extra_ids", "at most 10 extras an order");
    }
    let mut unit = package.price;
    let mut days = package.delivery_days;
    let mut bought = Vec::new();
    for (i, id) in chosen.iter().enumerate() {
        let field = format!("extra_ids[{i}]");
        if bought.contains(id) {
            violations.add(field, "is named twice");
            continue;
        }
        let Some(extra) = offered.iter().find(|extra| extra.id == *id) else {
            violations.add(field, "is not an extra of this gig");
            continue;
        };
        match unit.checked_add(extra.price) {
            Ok(sum) => unit = sum,
            Err(_) => violations.add(field, "is not priced in the package's currency"),
        }
        days += extra.extra_days;
        bought.push(*id);
    }
    let total = unit
        .minor_units
        .checked_mul(i64::from(quantity))
        .map(|minor| Money::new(unit.currency, minor));
    if total.is_none() {
        violations.add("quantity", "makes the order too expensive");
    }
    let total = violations.finish(total)?;
    Ok(Quote {
        total: total.unwrap_or(unit),
        delivery_days: days,
        revisions: package.revisions,
        extras: bought,
    })
}

/// When a delivery is due: `days` after the requirements arrived.
pub fn due_at(requirements_at: DateTime<Utc>, days: i32) -> DateTime<Utc> {
    requirements_at + Duration::days(i64::from(days))
}

#[cfg(test)]
mod tests {
    use frevix_platform::money::Currency;
    use proptest::prelude::*;

    use super::*;

    fn usd(minor: i64) -> Money {
        Money::new(Currency::USD, minor)
    }

    fn package() -> PackageTerms {
        PackageTerms {
            tier: 1,
            price: usd(5_000),
            delivery_days: 3,
            revisions: 2,
        }
    }

    fn extra(price: Money, days: i32) -> ExtraTerms {
        ExtraTerms {
            id: Uuid::now_v7(),
            price,
            extra_days: days,
        }
    }

    fn fields(error: FieldViolations) -> Vec<String> {
        error.iter().map(|(field, _)| field.to_owned()).collect()
    }

    #[test]
    fn extras_add_to_the_price_and_the_days_and_quantity_multiplies_the_price() {
        let fast = extra(usd(2_000), 1);
        let source = extra(usd(1_000), 0);
        let quote = quote(
            &package(),
            &[fast.clone(), source.clone()],
            &[fast.id, source.id],
            2,
        )
        .unwrap();
        assert_eq!(quote.total, usd(16_000));
        assert_eq!(quote.delivery_days, 4);
        assert_eq!(quote.revisions, 2);
        assert_eq!(quote.extras, [fast.id, source.id]);
    }

    #[test]
    fn every_wrong_field_is_named() {
        let euro = extra(Money::new(Currency::from_code("EUR").unwrap(), 100), 0);
        let known = extra(usd(100), 0);
        let error = quote(
            &package(),
            &[euro.clone(), known.clone()],
            &[euro.id, Uuid::now_v7(), known.id, known.id],
            0,
        )
        .unwrap_err();
        assert_eq!(
            fields(error),
            ["quantity", "extra_ids[0]", "extra_ids[1]", "extra_ids[3]"]
        );
        let huge = PackageTerms {
            price: usd(i64::MAX / 2),
            ..package()
        };
        assert_eq!(fields(quote(&huge, &[], &[], 3).unwrap_err()), ["quantity"]);
    }

    proptest! {
        #[test]
        fn the_total_is_the_sum_of_what_was_bought_times_the_quantity(
            price in 1..1_000_000i64,
            extras in prop::collection::vec((1..100_000i64, 0..5i32), 0..10),
            quantity in 1..=MAX_QUANTITY,
        ) {
            let offered: Vec<ExtraTerms> =
                extras.iter().map(|(p, d)| extra(usd(*p), *d)).collect();
            let chosen: Vec<Uuid> = offered.iter().map(|e| e.id).collect();
            let package = PackageTerms { price: usd(price), ..package() };
            let quote = quote(&package, &offered, &chosen, quantity).unwrap();
            let unit: i64 = price + extras.iter().map(|(p, _)| p).sum::<i64>();
            prop_assert_eq!(quote.total, usd(unit * i64::from(quantity)));
            let days: i32 = 3 + extras.iter().map(|(_, d)| d).sum::<i32>();
            prop_assert_eq!(quote.delivery_days, days);
        }
    }
}
