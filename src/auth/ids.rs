//! Validation of user-chosen identifiers.

/// Rocket.Chat's default `UTF8_User_Names_Validation`: `[0-9a-zA-Z-_.]+`, capped at 64 chars.
pub fn is_valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// A pragmatic e-mail check: one `@`, a non-empty local part, a dotted domain, no spaces
/// or control characters, at most 254 bytes (RFC 5321's path limit).
pub fn is_valid_email(email: &str) -> bool {
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// Rocket.Chat's `validateNameChars`: display names may not contain `<`, `>`, `/` or `\`.
pub fn is_valid_display_name(name: &str) -> bool {
    !name.contains(['<', '>', '/', '\\'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_rocket_chat_default_pattern() {
        assert!(is_valid_username("alice.b-c_9"));
        assert!(!is_valid_username(""));
        assert!(!is_valid_username("alice bob"));
        assert!(!is_valid_username("аdmin")); // Cyrillic а
        assert!(!is_valid_username("alice\0admin"));
        assert!(!is_valid_username(&"a".repeat(65)));
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(is_valid_email("bob@example.com"));
        assert!(!is_valid_email("bob@localhost"));
        assert!(!is_valid_email("bob example.com"));
        assert!(!is_valid_email("@example.com"));
        assert!(!is_valid_email("a@b@example.com"));
    }

    #[test]
    fn display_names_refuse_markup_characters() {
        assert!(is_valid_display_name("Bob O'Neil"));
        assert!(!is_valid_display_name("<script>"));
    }
}
