//! Connect Express accounts and their onboarding links. An account takes
//! transfers once its owner has finished onboarding (the link's page).

use serde_json::Value;

use crate::bodies;
use crate::call::{Call, Events};
use crate::form::ApiError;
use crate::objects::{Account, Book, new_id, now};

pub fn create(book: &mut Book, call: &Call, _events: &mut Events) -> Result<Value, ApiError> {
    let kind = call.form.get("type").unwrap_or("express");
    if !matches!(kind, "express" | "standard" | "custom") {
        return Err(ApiError::invalid("type", format!("Invalid type: {kind}")));
    }
    let country = call
        .form
        .get("country")
        .unwrap_or("US")
        .to_ascii_uppercase();
    if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(ApiError::invalid(
            "country",
            format!("Invalid country: {country}"),
        ));
    }
    let account = Account {
        id: new_id("acct"),
        country,
        email: call.form.get("email").map(str::to_owned),
        metadata: call.form.map("metadata"),
        onboarded: false,
        created: now(),
    };
    let body = bodies::account(&account);
    book.accounts.insert(account.id.clone(), account);
    Ok(body)
}

pub fn retrieve(book: &mut Book, id: &str) -> Result<Value, ApiError> {
    book.accounts
        .get(id)
        .map(bodies::account)
        .ok_or_else(|| ApiError::no_such("account", id, None))
}

pub fn link(book: &mut Book, call: &Call, _events: &mut Events) -> Result<Value, ApiError> {
    let account = call.form.required("account")?;
    if !book.accounts.contains_key(account) {
        return Err(ApiError::no_such("account", account, Some("account")));
    }
    let kind = call.form.required("type")?;
    if !matches!(kind, "account_onboarding" | "account_update") {
        return Err(ApiError::invalid("type", format!("Invalid type: {kind}")));
    }
    let return_url = call.form.required("return_url")?;
    let mut url = url::Url::parse(&format!("{}standin/onboarding/{account}", call.base))
        .map_err(|e| ApiError::invalid("account", e.to_string()))?;
    url.query_pairs_mut().append_pair("return_url", return_url);
    Ok(bodies::account_link(url.as_str(), now()))
}

/// The account's owner finished onboarding: it takes payouts now.
pub fn onboard(book: &mut Book, account: &str, events: &mut Events) -> bool {
    let Some(found) = book.accounts.get_mut(account) else {
        return false;
    };
    if !found.onboarded {
        found.onboarded = true;
        events.push_for(account, "account.updated", bodies::account(found));
    }
    true
}
