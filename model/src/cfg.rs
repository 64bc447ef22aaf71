//! Reads TLC configuration files (`.cfg`), the one source of constants for both TLC and the model.
//!
//! Only the subset of the TLC configuration language that Colony's specs use is accepted:
//! integer `CONSTANTS`, definition overrides `Name <- Replacement` under `CONSTANTS` (which put
//! a deliberate bug of `MultiPaxosBugs.tla` into the protocol), `INVARIANT(S)`, and either
//! `SPECIFICATION Spec` or `INIT Init` with `NEXT Next`. Anything else is rejected with an error naming the offending word and line, so
//! that a configuration TLC and the model would read differently can never be checked silently.

use std::collections::BTreeMap;
use std::path::Path;

/// One TLC configuration: the constants and the invariants to check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The spec module the file configures, taken from the file name: `Paxos_a3_v2_b1.cfg`
    /// configures `Paxos.tla`.
    pub module: String,
    /// `CONSTANTS` assignments, in file order of their names.
    pub constants: BTreeMap<String, i64>,
    /// `INVARIANT(S)` names, in file order.
    pub invariants: Vec<String>,
    /// `Name <- Replacement` definition overrides under `CONSTANTS`, in file order.
    pub overrides: Vec<(String, String)>,
}

/// What is wrong with a configuration file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CfgError {
    /// The file could not be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The file name does not name a spec module.
    #[error("cannot tell the spec module from the file name {0:?}: expected <Module>.cfg or <Module>_<anything>.cfg")]
    FileName(String),
    /// A word appeared where the grammar does not allow it.
    #[error("line {line}: unexpected {found:?}, expected {expected}")]
    Unexpected {
        /// 1-based line number.
        line: usize,
        /// The word found.
        found: String,
        /// What would have been valid.
        expected: &'static str,
    },
    /// A section keyword that the model does not support.
    #[error("line {line}: {keyword} is not supported by the model (supported: CONSTANTS, INVARIANTS, SPECIFICATION, INIT, NEXT, CHECK_DEADLOCK)")]
    Unsupported {
        /// 1-based line number.
        line: usize,
        /// The keyword.
        keyword: String,
    },
    /// A constant was given an integer too large for the model (beyond 64 bits).
    #[error("line {line}: constant {name} = {value} is too large (the model's constants are 64-bit integers; a state space this wide could not be searched anyway)")]
    TooLarge {
        /// The line.
        line: usize,
        /// The constant.
        name: String,
        /// The value as written.
        value: String,
    },
    /// A constant was given a value that is not an integer.
    #[error("line {line}: constant {name} = {value:?} is not an integer (the model supports integer constants only)")]
    NotAnInteger {
        /// 1-based line number.
        line: usize,
        /// The constant.
        name: String,
        /// The value as written.
        value: String,
    },
    /// A constant was assigned twice.
    #[error("line {line}: constant {name} is assigned twice")]
    Duplicate {
        /// 1-based line number.
        line: usize,
        /// The constant.
        name: String,
    },
    /// The file ended in the middle of an assignment.
    #[error("unexpected end of file: {0}")]
    Eof(&'static str),
    /// The behaviour is not the spec's `Spec` (or `Init` and `Next`).
    #[error("line {line}: {keyword} {name}: the model implements only SPECIFICATION Spec or INIT Init / NEXT Next")]
    Behaviour {
        /// 1-based line number.
        line: usize,
        /// `SPECIFICATION`, `INIT` or `NEXT`.
        keyword: String,
        /// The name given.
        name: String,
    },
}

impl Config {
    /// Reads and parses a `.cfg` file.
    pub fn load(path: &Path) -> Result<Config, CfgError> {
        let text = std::fs::read_to_string(path).map_err(|error| CfgError::Read {
            path: path.display().to_string(),
            reason: error.to_string(),
        })?;
        let file_name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        Config::parse(module_of(file_name)?, &text)
    }

    /// Parses the text of a `.cfg` file that configures `module`.
    pub fn parse(module: &str, text: &str) -> Result<Config, CfgError> {
        let tokens = tokenize(text);
        let mut config = Config {
            module: module.to_string(),
            constants: BTreeMap::new(),
            invariants: Vec::new(),
            overrides: Vec::new(),
        };
        let mut section = Section::None;
        let mut index = 0;
        while let Some(token) = tokens.get(index) {
            index += 1;
            if let Some(next) = section_keyword(token)? {
                section = next;
                continue;
            }
            match section {
                Section::None => {
                    return Err(unexpected(token, "a section keyword such as CONSTANTS"))
                }
                Section::Constants => index = config.constant(&tokens, index - 1)?,
                Section::Invariants => config.invariants.push(identifier(token)?),
                Section::Behaviour(keyword) => check_behaviour(keyword, token)?,
                Section::CheckDeadlock => boolean(token)?,
            }
        }
        Ok(config)
    }

    /// Parses `Name = integer` or `Name <- Replacement` starting at `tokens[index]`; returns the
    /// index after it.
    fn constant(&mut self, tokens: &[Token], index: usize) -> Result<usize, CfgError> {
        let name = identifier(&tokens[index])?;
        let equals = tokens
            .get(index + 1)
            .ok_or(CfgError::Eof("expected = or <- after a constant"))?;
        if equals.text == "<-" {
            let replacement = tokens
                .get(index + 2)
                .ok_or(CfgError::Eof("expected the replacing definition after <-"))?;
            self.overrides.push((name, identifier(replacement)?));
            return Ok(index + 3);
        }
        if equals.text != "=" {
            return Err(unexpected(
                equals,
                "= or <- (the model supports `Name = integer` and `Name <- Replacement` only)",
            ));
        }
        let value = tokens
            .get(index + 2)
            .ok_or(CfgError::Eof("expected a constant's value"))?;
        let number = value.text.parse::<i64>().map_err(|e| match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                CfgError::TooLarge {
                    line: value.line,
                    name: name.clone(),
                    value: value.text.clone(),
                }
            }
            _ => CfgError::NotAnInteger {
                line: value.line,
                name: name.clone(),
                value: value.text.clone(),
            },
        })?;
        if self.constants.insert(name.clone(), number).is_some() {
            return Err(CfgError::Duplicate {
                line: value.line,
                name,
            });
        }
        Ok(index + 3)
    }

    /// The value of constant `name`, if the file assigns it.
    pub fn constant_value(&self, name: &str) -> Option<i64> {
        self.constants.get(name).copied()
    }
}

/// The spec module a configuration file name refers to.
pub fn module_of(file_name: &str) -> Result<&str, CfgError> {
    let stem = file_name
        .strip_suffix(".cfg")
        .ok_or_else(|| CfgError::FileName(file_name.to_string()))?;
    let module = stem.split('_').next().unwrap_or("");
    let valid = module
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && module.chars().all(|c| c.is_ascii_alphanumeric());
    if valid {
        Ok(module)
    } else {
        Err(CfgError::FileName(file_name.to_string()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    None,
    Constants,
    Invariants,
    Behaviour(&'static str),
    CheckDeadlock,
}

#[derive(Clone, Debug)]
struct Token {
    text: String,
    line: usize,
}

/// Returns the new section when `token` is a section keyword.
fn section_keyword(token: &Token) -> Result<Option<Section>, CfgError> {
    let section = match token.text.as_str() {
        "CONSTANT" | "CONSTANTS" => Section::Constants,
        "INVARIANT" | "INVARIANTS" => Section::Invariants,
        "SPECIFICATION" => Section::Behaviour("SPECIFICATION"),
        "INIT" => Section::Behaviour("INIT"),
        "NEXT" => Section::Behaviour("NEXT"),
        "CHECK_DEADLOCK" => Section::CheckDeadlock,
        "PROPERTY" | "PROPERTIES" | "SYMMETRY" | "CONSTRAINT" | "CONSTRAINTS"
        | "ACTION_CONSTRAINT" | "ACTION_CONSTRAINTS" | "VIEW" | "ALIAS" | "POSTCONDITION" => {
            return Err(CfgError::Unsupported {
                line: token.line,
                keyword: token.text.clone(),
            })
        }
        _ => return Ok(None),
    };
    Ok(Some(section))
}

fn check_behaviour(keyword: &'static str, token: &Token) -> Result<(), CfgError> {
    let expected = match keyword {
        "SPECIFICATION" => "Spec",
        "INIT" => "Init",
        _ => "Next",
    };
    if token.text == expected {
        Ok(())
    } else {
        Err(CfgError::Behaviour {
            line: token.line,
            keyword: keyword.to_string(),
            name: token.text.clone(),
        })
    }
}

fn boolean(token: &Token) -> Result<(), CfgError> {
    match token.text.as_str() {
        "TRUE" | "FALSE" => Ok(()),
        _ => Err(unexpected(token, "TRUE or FALSE")),
    }
}

fn identifier(token: &Token) -> Result<String, CfgError> {
    let valid = token
        .text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && token
            .text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(token.text.clone())
    } else {
        Err(unexpected(token, "a name"))
    }
}

fn unexpected(token: &Token, expected: &'static str) -> CfgError {
    CfgError::Unexpected {
        line: token.line,
        found: token.text.clone(),
        expected,
    }
}

/// Splits the text into words, dropping `\*` line comments and `(* ... *)` block comments.
fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut chars = text.chars().peekable();
    let mut block_depth = 0usize;
    while let Some(c) = chars.next() {
        if c == '\n' {
            line += 1;
            continue;
        }
        if block_depth > 0 {
            if c == '*' && chars.peek() == Some(&')') {
                chars.next();
                block_depth -= 1;
            } else if c == '(' && chars.peek() == Some(&'*') {
                chars.next();
                block_depth += 1;
            }
            continue;
        }
        match c {
            '\\' if chars.peek() == Some(&'*') => {
                for skipped in chars.by_ref() {
                    if skipped == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '(' if chars.peek() == Some(&'*') => {
                chars.next();
                block_depth += 1;
            }
            c if c.is_whitespace() => {}
            c if is_word_char(c) => {
                let mut word = c.to_string();
                while let Some(&next) = chars.peek().filter(|&&next| is_word_char(next)) {
                    word.push(next);
                    chars.next();
                }
                tokens.push(Token { text: word, line });
            }
            '<' if chars.peek() == Some(&'-') => {
                chars.next();
                tokens.push(Token {
                    text: "<-".to_string(),
                    line,
                });
            }
            c => tokens.push(Token {
                text: c.to_string(),
                line,
            }),
        }
    }
    tokens
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, CfgError> {
        Config::parse("Paxos", text)
    }

    #[test]
    fn reads_constants_and_invariants() {
        let config = parse(
            "\\* comment\nCONSTANTS\n  NumAcceptors = 3\n  MaxBallot=2 (* block *)\n\
             SPECIFICATION Spec\nINVARIANTS TypeOK\n Agreement\nCHECK_DEADLOCK FALSE\n",
        )
        .unwrap();
        assert_eq!(config.constant_value("NumAcceptors"), Some(3));
        assert_eq!(config.constant_value("MaxBallot"), Some(2));
        assert_eq!(config.invariants, ["TypeOK", "Agreement"]);
        assert!(config.overrides.is_empty());
    }

    #[test]
    fn reads_definition_overrides() {
        let config = parse("CONSTANTS\n  N = 3\n  CompactTo <- CompactPastSnapshot\n").unwrap();
        assert_eq!(config.constant_value("N"), Some(3));
        assert_eq!(
            config.overrides,
            [("CompactTo".to_string(), "CompactPastSnapshot".to_string())]
        );
    }

    #[test]
    fn rejects_what_the_model_cannot_mirror() {
        let cases = [
            (
                "CONSTANTS N = {a, b}",
                "line 1: constant N = \"{\" is not an integer",
            ),
            (
                "CONSTANTS N := 3",
                "line 1: unexpected \":\", expected = or <-",
            ),
            (
                "CONSTANTS N <- 3x",
                "line 1: unexpected \"3x\", expected a name",
            ),
            (
                "CONSTANTS N = 1\nN = 2",
                "line 2: constant N is assigned twice",
            ),
            ("SYMMETRY Perms", "line 1: SYMMETRY is not supported"),
            (
                "SPECIFICATION Other",
                "line 1: SPECIFICATION Other: the model implements only",
            ),
            (
                "NumAcceptors = 3",
                "line 1: unexpected \"NumAcceptors\", expected a section",
            ),
            ("CONSTANTS N =", "unexpected end of file"),
            ("INVARIANT 3x", "line 1: unexpected \"3x\", expected a name"),
        ];
        for (text, expected) in cases {
            let message = parse(text).unwrap_err().to_string();
            assert!(message.starts_with(expected), "{text:?} gave {message:?}");
        }
    }

    #[test]
    fn module_comes_from_the_file_name() {
        assert_eq!(module_of("Paxos_a3_v2_b1.cfg"), Ok("Paxos"));
        assert_eq!(module_of("MultiPaxos.cfg"), Ok("MultiPaxos"));
        assert!(module_of("paxos.txt").is_err());
        assert!(module_of("_x.cfg").is_err());
    }
}
