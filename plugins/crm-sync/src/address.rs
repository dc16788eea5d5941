//! What a profile's contact details must look like before crm-sync sends a
//! paid message to them: a phone number in E.164 (Infobip takes it with or
//! without the `+`), an email address of one mailbox (no display name, no
//! list, nothing that could become another header or recipient).

/// The E.164 digits of `phone` (`+41 79 302 67 27` → `41793026727`), if it
/// is one: a country code not starting with 0, 8 to 15 digits in all.
/// Spaces, dots, dashes and parentheses between digits are allowed.
pub fn e164(phone: &str) -> Option<String> {
    let trimmed = phone.trim_matches(' ');
    let rest = trimmed.strip_prefix('+').unwrap_or(trimmed);
    if rest
        .chars()
        .any(|c| !(c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')')))
    {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let plausible = (8..=15).contains(&digits.len()) && !digits.starts_with('0');
    plausible.then_some(digits)
}

/// Whether `email` is one plain address (`local@domain.tld`, at most 254
/// bytes): no whitespace or control characters, no `,;<>"()[]\`.
pub fn is_email(email: &str) -> bool {
    if email.is_empty() || email.len() > 254 {
        return false;
    }
    if email
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || ",;<>\"()[]\\".contains(c))
    {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

/// Whether `value` may go where a header is made of it (no CR, LF or NUL).
pub fn is_header_safe(value: &str) -> bool {
    !value.contains(['\r', '\n', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_e164_or_refused() {
        assert_eq!(e164("41793026727").as_deref(), Some("41793026727"));
        assert_eq!(e164("+41 79 302-67-27").as_deref(), Some("41793026727"));
        for bad in [
            "",
            "12345",
            "0041793026727",
            "+1 (555) abc",
            "4179302672712345",
            "41793026727\r\n",
        ] {
            assert_eq!(e164(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn emails_are_one_plain_address() {
        assert!(is_email("alice@example.com"));
        for bad in [
            "alice",
            "alice@",
            "@example.com",
            "alice@localhost",
            "a@b@example.com",
            "alice@example.com, eve@evil.example",
            "Alice <alice@example.com>",
            "alice@example.com\r\nBcc: eve@evil.example",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
        assert!(!is_header_safe("Your order\r\nBcc: x"));
        assert!(is_header_safe("Your order o-1"));
    }
}
