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

/// `text` with `%`, `_` and `\` escaped for a `LIKE … ESCAPE '\'` pattern.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
