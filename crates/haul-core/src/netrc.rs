//! `.netrc`: a user and password per host, as curl's `--netrc` and wget read it.
//!
//! Owns: parsing the file's text (tokens separated by white space; `machine NAME`, `default`,
//! `login`, `password`, `account`, and `macdef NAME` whose body runs to the next blank line;
//! double-quoted tokens with `\` escapes, as curl 7.84+ reads them) and choosing the entry for
//! a host (the first `machine` that names it, else `default`). Must not touch: I/O (the
//! caller reads the file and checks its permissions).

use crate::protocol::Credentials;

/// The entries of one `.netrc` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Netrc {
    /// `(host, credentials)` in file order; `None` as host is the `default` entry.
    entries: Vec<(Option<String>, Credentials)>,
}

/// Why a `.netrc` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetrcError {
    #[error("'{0}' needs a value after it")]
    MissingValue(String),
    #[error("'{0}' before any 'machine' or 'default'")]
    Orphan(String),
    #[error("an unterminated quoted token")]
    Unterminated,
}

impl Netrc {
    /// Parses a `.netrc` file's text. Unknown tokens are skipped (as curl does).
    /// Errors: [`NetrcError`] for a token missing its value, a `login`/`password` outside
    /// an entry, or an unterminated quote.
    pub fn parse(text: &str) -> Result<Netrc, NetrcError> {
        let tokens = tokenize(text)?;
        let mut entries: Vec<(Option<String>, Credentials)> = Vec::new();
        let mut current: Option<(Option<String>, Option<String>, Option<String>)> = None;
        let finish = |current: &mut Option<(Option<String>, Option<String>, Option<String>)>,
                      entries: &mut Vec<(Option<String>, Credentials)>| {
            if let Some((host, Some(user), password)) = current.take() {
                entries.push((
                    host,
                    Credentials {
                        user,
                        password: password.unwrap_or_default(),
                    },
                ));
            }
        };
        let mut it = tokens.into_iter();
        while let Some(token) = it.next() {
            let mut value = |name: &str| it.next().ok_or(NetrcError::MissingValue(name.to_owned()));
            match token.as_str() {
                "machine" => {
                    let host = value("machine")?;
                    finish(&mut current, &mut entries);
                    current = Some((Some(host.to_ascii_lowercase()), None, None));
                }
                "default" => {
                    finish(&mut current, &mut entries);
                    current = Some((None, None, None));
                }
                "login" | "password" | "account" => {
                    let v = value(&token)?;
                    let Some(entry) = current.as_mut() else {
                        return Err(NetrcError::Orphan(token));
                    };
                    match token.as_str() {
                        "login" => entry.1 = Some(v),
                        "password" => entry.2 = Some(v),
                        _ => {}
                    }
                }
                _ => {} // macdef bodies are dropped while tokenizing; anything else is skipped
            }
        }
        finish(&mut current, &mut entries);
        Ok(Netrc { entries })
    }

    /// The credentials for `host`: the first `machine` entry naming it (case-insensitive),
    /// else the `default` entry.
    pub fn for_host(&self, host: &str) -> Option<&Credentials> {
        let host = host.to_ascii_lowercase();
        self.entries
            .iter()
            .find(|(h, _)| h.as_deref() == Some(host.as_str()))
            .or_else(|| self.entries.iter().find(|(h, _)| h.is_none()))
            .map(|(_, c)| c)
    }
}

/// Splits into tokens, dropping `macdef` bodies (from the line after `macdef NAME` to the
/// next blank line) and `#` comments at the start of a line.
fn tokenize(text: &str) -> Result<Vec<String>, NetrcError> {
    let mut tokens = Vec::new();
    let mut in_macdef = false;
    for line in text.lines() {
        if in_macdef {
            in_macdef = !line.trim().is_empty();
            continue;
        }
        if line.trim_start().starts_with('#') {
            continue;
        }
        let mut chars = line.chars().peekable();
        loop {
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            let Some(&first) = chars.peek() else { break };
            let mut token = String::new();
            if first == '"' {
                chars.next();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => match chars.next() {
                            Some('n') => token.push('\n'),
                            Some('t') => token.push('\t'),
                            Some('r') => token.push('\r'),
                            Some(other) => token.push(other),
                            None => break,
                        },
                        c => token.push(c),
                    }
                }
                if !closed {
                    return Err(NetrcError::Unterminated);
                }
            } else {
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    token.push(c);
                }
            }
            tokens.push(token);
        }
        if tokens.len() >= 2 && tokens[tokens.len() - 2] == "macdef" {
            tokens.truncate(tokens.len() - 2);
            in_macdef = true;
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_machine_wins_and_default_catches_the_rest() {
        let text = "# mine\nmachine dl.example.com login ann password \"p w\\\"x\"\n\
                    macdef init\ncd /pub\nbin\n\n\
                    machine DL.example.com login second password no\n\
                    default login anonymous password me@example.com\n";
        let netrc = Netrc::parse(text).expect("parses");
        let ann = netrc.for_host("dl.example.com").expect("machine");
        assert_eq!(
            (ann.user.as_str(), ann.password.as_str()),
            ("ann", "p w\"x")
        );
        assert_eq!(
            netrc.for_host("other.org").map(|c| c.user.as_str()),
            Some("anonymous")
        );
    }

    #[test]
    fn broken_files_say_why() {
        assert_eq!(
            Netrc::parse("machine h login"),
            Err(NetrcError::MissingValue("login".to_owned()))
        );
        assert_eq!(
            Netrc::parse("login x"),
            Err(NetrcError::Orphan("login".to_owned()))
        );
        assert_eq!(
            Netrc::parse("machine h password \"open"),
            Err(NetrcError::Unterminated)
        );
        assert_eq!(Netrc::parse("machine h").expect("ok").for_host("h"), None);
    }
}
