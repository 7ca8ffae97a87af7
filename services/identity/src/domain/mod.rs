//! Identity's rules, free of I/O: what a valid email, name, password and role
//! set are, how one-time codes and refresh tokens are made and checked, and
//! when repeated failed logins slow an account down.

pub mod account;
pub mod codes;
pub mod ids;
pub mod password;
pub mod throttle;
pub mod tokens;
pub mod two_factor;
