//! Reading a password for a command-line command: from a variable, from a
//! pipe (scripts), or at a terminal with the input hidden.

use std::io::{BufRead, IsTerminal, Read, Write};

use anyhow::{bail, Context};
use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions, Termios};

use crate::accounts::password::Password;

/// The terminal's settings as they were, put back when dropped (also when
/// reading fails or the process is unwinding).
struct EchoOff<'a> {
    terminal: &'a std::io::Stdin,
    saved: Termios,
}

impl<'a> EchoOff<'a> {
    fn new(terminal: &'a std::io::Stdin) -> std::io::Result<Self> {
        let saved = tcgetattr(terminal)?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        // Enter still finishes the line (canonical mode stays on).
        quiet.local_modes.insert(LocalModes::ICANON);
        tcsetattr(terminal, OptionalActions::Now, &quiet)?;
        Ok(Self { terminal, saved })
    }
}

impl Drop for EchoOff<'_> {
    fn drop(&mut self) {
        let _ = tcsetattr(self.terminal, OptionalActions::Now, &self.saved);
    }
}

/// One line typed at the terminal after `prompt` (on stderr), not echoed.
fn hidden_line(prompt: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let line = {
        // Echo off before the prompt shows, so nothing typed after it is echoed.
        let _echo_off = EchoOff::new(&stdin).context("cannot turn terminal echo off")?;
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("reading the password")?;
        line
    };
    // The user's Enter was not echoed either.
    eprintln!();
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// A new password for a command: `variable` when set; at a terminal, typed
/// twice with the input hidden; otherwise all of stdin, without its final
/// newline (`printf '%s\n' "$pw" | auth-server users …`). Never from argv.
pub fn read_new_password(variable: &str) -> anyhow::Result<Password> {
    if let Ok(password) = std::env::var(variable) {
        return Ok(Password::new(password));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let first = hidden_line("New password (not shown): ")?;
        if first.is_empty() {
            bail!("no password typed; nothing changed");
        }
        let second = hidden_line("The same again: ")?;
        if first != second {
            bail!("the two passwords differ; nothing changed");
        }
        return Ok(Password::new(first));
    }
    let mut buffer = String::new();
    stdin
        .lock()
        .read_to_string(&mut buffer)
        .context("reading the password from stdin")?;
    let password = buffer.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("{variable} is not set and stdin was empty");
    }
    Ok(Password::new(password))
}
