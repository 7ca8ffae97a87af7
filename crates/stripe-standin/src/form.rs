//! Requests as Stripe takes them (form-encoded, `metadata[key]=value`
//! brackets) and errors as Stripe answers them (`{"error": {...}}` with a
//! type, a code, a message and the parameter at fault).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A form body or query string, its pairs in order.
#[derive(Debug, Clone, Default)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub fn parse(bytes: &[u8]) -> Form {
        Form {
            pairs: url::form_urlencoded::parse(bytes).into_owned().collect(),
        }
    }

    /// The value of `key` (the last one when repeated).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `key`, which must be there.
    pub fn required(&self, key: &str) -> Result<&str, ApiError> {
        self.get(key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::missing(key))
    }

    /// `key` as a positive amount in minor units.
    pub fn amount(&self, key: &str) -> Result<Option<i64>, ApiError> {
        let Some(text) = self.get(key) else {
            return Ok(None);
        };
        match text.parse::<i64>() {
            Ok(amount) if amount > 0 => Ok(Some(amount)),
            _ => Err(ApiError::invalid(
                key,
                format!("Invalid positive integer: {key} must be at least 1"),
            )),
        }
    }

    /// Whether `expand[]` names `field` (the object inlined for its id).
    pub fn expands(&self, field: &str) -> bool {
        self.pairs
            .iter()
            .any(|(k, v)| k.starts_with("expand[") && v == field)
    }

    pub fn flag(&self, key: &str) -> bool {
        self.get(key) == Some("true")
    }

    /// The pairs under `prefix[...]` (e.g. `metadata`), by inner key.
    pub fn map(&self, prefix: &str) -> Vec<(String, String)> {
        let open = format!("{prefix}[");
        let mut found: Vec<(String, String)> = Vec::new();
        for (key, value) in &self.pairs {
            if let Some(inner) = key.strip_prefix(&open).and_then(|k| k.strip_suffix(']')) {
                found.retain(|(k, _)| k != inner);
                found.push((inner.to_owned(), value.clone()));
            }
        }
        found
    }

    /// The whole request as one line, keys sorted: what an idempotency key
    /// is compared against.
    pub fn fingerprint(&self) -> String {
        let mut pairs = self.pairs.clone();
        pairs.sort();
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// An error as Stripe answers it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub code: Option<&'static str>,
    pub message: String,
    pub param: Option<String>,
    /// Card errors carry the payment intent as it now stands.
    pub payment_intent: Option<Box<serde_json::Value>>,
    pub decline_code: Option<&'static str>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            code: None,
            message: message.into(),
            param: None,
            payment_intent: None,
            decline_code: None,
        }
    }

    pub fn missing(param: &str) -> ApiError {
        ApiError {
            code: Some("parameter_missing"),
            param: Some(param.to_owned()),
            ..ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                format!("Missing required param: {param}."),
            )
        }
    }

    pub fn invalid(param: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            code: Some("parameter_invalid"),
            param: Some(param.to_owned()),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
        }
    }

    pub fn no_such(what: &str, id: &str, param: Option<&str>) -> ApiError {
        ApiError {
            code: Some("resource_missing"),
            param: param.map(str::to_owned),
            ..ApiError::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                format!("No such {what}: '{id}'"),
            )
        }
    }

    /// The object's state does not allow the call.
    pub fn state(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            code: Some(code),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
        }
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "Invalid API Key provided: a secret key (sk_...) is required.",
        )
    }

    pub fn idempotency(key: &str) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "idempotency_error",
            format!(
                "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
            ),
        )
    }

    pub fn declined(
        message: &str,
        decline_code: &'static str,
        intent: serde_json::Value,
    ) -> ApiError {
        ApiError {
            code: Some("card_declined"),
            decline_code: Some(decline_code),
            payment_intent: Some(Box::new(intent)),
            ..ApiError::new(StatusCode::PAYMENT_REQUIRED, "card_error", message)
        }
    }

    pub fn unavailable() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "An unknown error occurred (injected by the stand-in).",
        )
    }

    pub fn body(&self) -> serde_json::Value {
        let mut error = json!({
            "type": self.kind,
            "message": self.message,
        });
        if let Some(code) = self.code {
            error["code"] = json!(code);
        }
        if let Some(param) = &self.param {
            error["param"] = json!(param);
        }
        if let Some(decline) = self.decline_code {
            error["decline_code"] = json!(decline);
        }
        if let Some(intent) = &self.payment_intent {
            error["payment_intent"] = (**intent).clone();
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}
