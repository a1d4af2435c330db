//! The PostgreSQL and Redis services tests may use. Without them a test prints
//! `SKIPPED: ...` and passes, unless `CHITCHAT_REQUIRE_SERVICES=1`, when it fails.

use uuid::Uuid;

pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const DEFAULT_TEST_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// True when missing services must fail tests instead of skipping them.
pub fn services_required() -> bool {
    std::env::var("CHITCHAT_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// Skips (returns None) or fails, as `CHITCHAT_REQUIRE_SERVICES` says.
pub fn skip_or_fail<T>(what: &str, error: impl std::fmt::Display) -> Option<T> {
    skip_unless_required("CHITCHAT_REQUIRE_SERVICES", what, error)
}

/// Skips (returns None, printing `SKIPPED: ...`) unless `required_var=1`, then fails.
pub fn skip_unless_required<T>(required_var: &str, what: &str, error: impl std::fmt::Display) -> Option<T> {
    if std::env::var(required_var).is_ok_and(|v| v == "1") {
        panic!("{what} is required ({required_var}=1) but unavailable: {error}");
    }
    // Written to stderr directly so the test harness does not swallow it.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {what} unavailable: {error}");
    None
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned())
}

/// The Redis server tests may use (`TEST_REDIS_URL`). Tests share it, so each keeps
/// to channels or keys of its own.
pub fn test_redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_TEST_REDIS_URL.to_owned())
}

/// Replaces the database name at the end of a PostgreSQL URL.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let prefix = match base.rfind('/') {
        Some(i) if i > base.find("://").map_or(0, |s| s + 2) => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{prefix}/{database}?{q}"),
        None => format!("{prefix}/{database}"),
    }
}

/// Creates an empty database of its own for one test and returns its URL, or
/// None (after printing SKIPPED) when PostgreSQL is unreachable and not required.
pub async fn fresh_postgres_database() -> Option<String> {
    let admin = admin_url();
    let (client, connection) = match tokio_postgres::connect(&admin, tokio_postgres::NoTls).await {
        Ok(pair) => pair,
        Err(error) => return skip_or_fail("PostgreSQL (TEST_DATABASE_URL)", error),
    };
    tokio::spawn(connection);
    let name = format!("chitchat_t_{}", Uuid::new_v4().simple());
    if let Err(error) = client.batch_execute(&format!("CREATE DATABASE {name}")).await {
        return skip_or_fail("PostgreSQL CREATE DATABASE", error);
    }
    Some(with_database(&admin, &name))
}

/// `TEST_REDIS_URL` when a Redis server answers there; None (after SKIPPED) or a
/// failure when it does not, as `CHITCHAT_REQUIRE_SERVICES` says.
pub async fn reachable_redis() -> Option<String> {
    let url = test_redis_url();
    let address = url.split("://").nth(1).unwrap_or(&url).rsplit('@').next().unwrap_or_default();
    let address = address.split('/').next().unwrap_or_default().to_owned();
    match tokio::time::timeout(std::time::Duration::from_secs(3), tokio::net::TcpStream::connect(&address)).await {
        Ok(Ok(_)) => Some(url),
        Ok(Err(error)) => skip_or_fail("Redis (TEST_REDIS_URL)", error),
        Err(_) => skip_or_fail("Redis (TEST_REDIS_URL)", "connection timed out"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced_keeping_options() {
        assert_eq!(with_database("postgres://u@h:5432/test", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgres://u@h/test?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://u@h:5432", "x"), "postgres://u@h:5432/x");
    }
}
