//! The welcome email a newly registered customer gets.

/// Subject and text of the welcome email to a customer called `name`.
pub fn message(name: Option<&str>) -> (String, String) {
    let greeting = name.map_or(String::new(), |n| format!(" {n}"));
    (
        "Welcome to the shop".to_owned(),
        format!(
            "Hello{greeting},\n\nwelcome! Your account is ready: you can follow your orders, \
             manage your details and talk to us from your account page.\n"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_welcome_greets_by_name_when_known() {
        assert!(message(Some("Ann")).1.starts_with("Hello Ann,"));
        assert!(message(None).1.starts_with("Hello,"));
    }
}
