//! blog-svc's web front end against a real auth-server: the pages, the
//! sign-in through the auth server's page (OpenID Connect code flow), and
//! the attacks on each step; on SQLite and PostgreSQL.

mod agent;
mod browser;
mod logout;
mod pages;
mod revocation;
mod stack;
