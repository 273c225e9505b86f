//! auth-server's HTTP API, end to end over real HTTP, on SQLite and PostgreSQL.

mod helpers;

mod account_pages;
mod admin;
mod api_keys;
mod authorize;
mod bad_input;
mod branding;
mod clients;
mod code_grant;
mod codes;
mod cors;
mod domain;
mod dpop;
mod gateway;
mod gateway_browser;
mod health;
mod hostile_input;
mod keys;
mod login;
mod mail;
mod oauth;
mod pages_browser;
mod rate_limits;
mod relying_party;
mod retention;
mod rotation;
mod security;
mod security_events;
mod security_round3;
mod sessions;
mod token_exchange;
mod tokens;
mod upstream;
mod upstream_tokens;
mod users;
