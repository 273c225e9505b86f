//! auth-server's own metrics, each declared once with its help text. The
//! HTTP, verifier and retention metrics come from `signet_service::metrics`.

use signet_service::metrics::{CounterDef, Described};

pub(crate) const LOGINS: CounterDef = CounterDef {
    name: "logins_total",
    help: "Password logins by outcome.",
};
pub(crate) const TOKENS_ISSUED: CounterDef = CounterDef {
    name: "tokens_issued_total",
    help: "Access tokens issued by grant.",
};
pub(crate) const REFRESH_REUSE: CounterDef = CounterDef {
    name: "refresh_reuse_detected_total",
    help: "Rotated refresh tokens presented again (families revoked).",
};
pub(crate) const RATE_LIMITED: CounterDef = CounterDef {
    name: "rate_limited_total",
    help:
        "Requests refused by a rate limit, by limit (429s; for mail_per_address, mails not sent).",
};
pub(crate) const RATE_LIMIT_FALLBACK: CounterDef = CounterDef {
    name: "rate_limit_shared_fallbacks_total",
    help: "Sign-in attempts checked by this replica's limit alone because the shared one could not be read.",
};
pub(crate) const SECURITY_EVENT_READS: CounterDef = CounterDef {
    name: "security_event_reads_total",
    help: "Reads of the security events for forward-auth, by what woke them (notified, tick).",
};
pub(crate) const MAILS: CounterDef = CounterDef {
    name: "mails_total",
    help: "Outgoing mail delivery attempts by outcome (sent, retry, failed).",
};

pub(crate) const CATALOG: &[Described] = &[
    Described::Counter(&LOGINS),
    Described::Counter(&RATE_LIMIT_FALLBACK),
    Described::Counter(&TOKENS_ISSUED),
    Described::Counter(&REFRESH_REUSE),
    Described::Counter(&RATE_LIMITED),
    Described::Counter(&MAILS),
    Described::Counter(&SECURITY_EVENT_READS),
];
