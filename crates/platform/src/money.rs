//! Money as an integer count of a currency's minor units. Never a float: sums
//! and splits must be exact, and every amount carries its currency so two
//! currencies are never added by mistake.

use std::fmt;

use frevix_proto::common::v1 as pb;

use crate::error::FieldViolations;

/// The currencies Frevix settles in, with their number of minor-unit digits.
const SUPPORTED: &[(&str, u32)] = &[
    ("AUD", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("JPY", 0),
    ("USD", 2),
];

/// An ISO 4217 currency code Frevix supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(&'static str);

impl Currency {
    pub const USD: Currency = Currency("USD");

    /// Looks up a supported currency by its upper-case code.
    pub fn from_code(code: &str) -> Option<Self> {
        SUPPORTED
            .iter()
            .find(|(known, _)| *known == code)
            .map(|(known, _)| Currency(known))
    }

    /// `code` as a supported currency, or a violation on `field`.
    pub fn parse_field(field: &str, code: &str, violations: &mut FieldViolations) -> Option<Self> {
        let currency = Self::from_code(code);
        if currency.is_none() {
            violations.add(
                field,
                "must be a supported ISO 4217 code (AUD, CAD, CHF, EUR, GBP, JPY, USD)",
            );
        }
        currency
    }

    pub fn code(self) -> &'static str {
        self.0
    }

    /// Digits after the decimal point (2 for USD, 0 for JPY).
    pub fn minor_digits(self) -> u32 {
        SUPPORTED
            .iter()
            .find(|(known, _)| *known == self.0)
            .map_or(2, |(_, digits)| *digits)
    }
}

/// An amount in a currency's minor units (cents for USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    pub currency: Currency,
    pub minor_units: i64,
}

/// Why two amounts could not be combined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currencies differ: {0} and {1}")]
    CurrencyMismatch(&'static str, &'static str),
    #[error("amount out of range")]
    Overflow,
}

impl Money {
    pub fn new(currency: Currency, minor_units: i64) -> Self {
        Self {
            currency,
            minor_units,
        }
    }

    /// An amount read back from storage, where it was checked on the way
    /// in; `None` when the currency is no longer supported.
    pub fn from_stored(code: &str, minor_units: i64) -> Option<Self> {
        Currency::from_code(code).map(|currency| Self::new(currency, minor_units))
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let sum = self
            .minor_units
            .checked_add(other.minor_units)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(self.currency, sum))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let difference = self
            .minor_units
            .checked_sub(other.minor_units)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(self.currency, difference))
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(
                self.currency.code(),
                other.currency.code(),
            ))
        }
    }

    /// Parses a request amount that must be positive and at most `max_minor_units`.
    pub fn parse_positive(
        field: &str,
        value: Option<&pb::Money>,
        max_minor_units: i64,
        violations: &mut FieldViolations,
    ) -> Option<Money> {
        let Some(value) = value else {
            violations.add(field, "is required");
            return None;
        };
        let currency = Currency::parse_field(
            &format!("{field}.currency_code"),
            &value.currency_code,
            violations,
        )?;
        if value.minor_units <= 0 || value.minor_units > max_minor_units {
            violations.add(
                format!("{field}.minor_units"),
                format!("must be between 1 and {max_minor_units}"),
            );
            return None;
        }
        Some(Money::new(currency, value.minor_units))
    }
}

impl From<Money> for pb::Money {
    fn from(money: Money) -> Self {
        pb::Money {
            currency_code: money.currency.code().to_owned(),
            minor_units: money.minor_units,
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.currency.minor_digits();
        if digits == 0 {
            return write!(f, "{} {}", self.currency.code(), self.minor_units);
        }
        let scale = 10_i64.pow(digits);
        let sign = if self.minor_units < 0 { "-" } else { "" };
        let abs = self.minor_units.unsigned_abs();
        let scale = scale.unsigned_abs();
        write!(
            f,
            "{} {sign}{}.{:0width$}",
            self.currency.code(),
            abs / scale,
            abs % scale,
            width = digits as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_different_currencies_is_refused() {
        let eur = Currency::from_code("EUR").unwrap();
        let sum = Money::new(Currency::USD, 100).checked_add(Money::new(eur, 100));
        assert_eq!(sum, Err(MoneyError::CurrencyMismatch("USD", "EUR")));
    }

    #[test]
    fn amounts_display_with_their_minor_digits() {
        assert_eq!(Money::new(Currency::USD, 1999).to_string(), "USD 19.99");
        assert_eq!(Money::new(Currency::USD, -5).to_string(), "USD -0.05");
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(Money::new(jpy, 500).to_string(), "JPY 500");
    }

    #[test]
    fn a_request_amount_must_be_positive_and_supported() {
        let mut violations = FieldViolations::new();
        let bad = pb::Money {
            currency_code: "XXX".into(),
            minor_units: 1,
        };
        assert!(Money::parse_positive("price", Some(&bad), 100, &mut violations).is_none());
        let zero = pb::Money {
            currency_code: "USD".into(),
            minor_units: 0,
        };
        assert!(Money::parse_positive("price", Some(&zero), 100, &mut violations).is_none());
        let fields: Vec<_> = violations.iter().map(|(f, _)| f.to_owned()).collect();
        assert_eq!(fields, ["price.currency_code", "price.minor_units"]);
    }
}
