//! Checks of free-text input shared by every domain.

use crate::error::{DomainError, DomainResult};

/// A trimmed text of at most `max` characters; `None` when absent or blank.
pub fn optional_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> DomainResult<Option<String>> {
    let Some(value) = value else { return Ok(None) };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > max {
        return Err(DomainError::bad_input(
            field,
            format!("`{field}` must be at most {max} characters"),
        ));
    }
    Ok(Some(trimmed.to_owned()))
}

/// A trimmed, non-blank text of at most `max` characters.
pub fn required_text(field: &str, value: String, max: usize) -> DomainResult<String> {
    optional_text(field, Some(value), max)?
        .ok_or_else(|| DomainError::bad_input(field, format!("`{field}` must not be blank")))
}

/// `count` and the noun, singular or plural as the count wants: `1 conflict`, `2 conflicts`.
/// (Every noun counted in messages takes an `s`.)
pub fn counted(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Longest text a search filter (`text`, `nameContains`) may look for: longer patterns are
/// not searches a person types, and SQLite refuses `LIKE` patterns past 50 000 bytes.
pub const MAX_SEARCH_CHARS: usize = 200;

/// What a free-text search filter looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The text, trimmed.
    pub text: String,
    /// A `LIKE … ESCAPE '\'` pattern matching the lower-cased text anywhere.
    pub pattern: String,
}

/// The search for `text` given in filter `field`: none when absent or blank, BAD_USER_INPUT
/// beyond [`MAX_SEARCH_CHARS`], the same on every store.
pub fn search(field: &str, text: Option<&str>) -> DomainResult<Option<Search>> {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_SEARCH_CHARS {
        return Err(DomainError::bad_input(
            field,
            format!("`{field}` searches for at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    Ok(Some(Search {
        text: text.to_owned(),
        pattern: format!("%{}%", escape_like(&text.to_lowercase())),
    }))
}

/// `text` with `%`, `_` and `\` escaped for a `LIKE … ESCAPE '\'` pattern.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_trimmed_lower_cased_and_escaped() {
        let search = search("text", Some("  50%_Off "))
            .expect("valid")
            .expect("not blank");
        assert_eq!(search.text, "50%_Off");
        assert_eq!(search.pattern, "%50\\%\\_off%");
    }

    #[test]
    fn like_wildcards_in_a_search_match_themselves() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
    }

    #[test]
    fn counts_say_one_in_the_singular() {
        assert_eq!(counted(1, "conflict"), "1 conflict");
        assert_eq!(counted(0, "conflict"), "0 conflicts");
        assert_eq!(counted(3, "invalid row"), "3 invalid rows");
    }

    #[test]
    fn a_blank_search_is_no_search() {
        assert_eq!(search("text", Some("   ")).expect("valid"), None);
        assert_eq!(search("text", None).expect("valid"), None);
    }

    #[test]
    fn a_search_longer_than_the_bound_is_bad_input_naming_its_field() {
        let long = "x".repeat(MAX_SEARCH_CHARS + 1);
        let error = search("nameContains", Some(&long)).expect_err("too long");
        assert!(
            matches!(error, DomainError::BadInput { ref field, .. } if field == "nameContains")
        );
        assert!(search("text", Some(&"x".repeat(MAX_SEARCH_CHARS))).is_ok());
    }
}
