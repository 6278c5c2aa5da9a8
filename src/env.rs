//! Values read from the environment, safely: no value can panic or
//! overflow (DESIGN.md "Rules that hold everywhere"), and paths are taken
//! as the bytes they are.

use std::path::PathBuf;
use std::time::Duration;

/// Longest wait an environment variable can ask for; more is capped. The
/// config's `login_timeout` has the same bound.
const MAX_ENV_WAIT: Duration = Duration::from_secs(24 * 3600);

/// A number of seconds from the environment (`CREDENTIAL_OAUTH_*_TIMEOUT`):
/// `None` when unset or not a positive number (NaN, infinities, negative,
/// zero, not UTF-8, garbage); capped at [`MAX_ENV_WAIT`], so no value can
/// overflow a `Duration` or an `Instant` later.
pub fn seconds_from(name: &str) -> Option<Duration> {
    seconds(&non_empty(name)?)
}

fn seconds(text: &str) -> Option<Duration> {
    let secs = text.trim().parse::<f64>().ok()?;
    if !(secs.is_finite() && secs > 0.0) {
        return None;
    }
    Duration::try_from_secs_f64(secs.min(MAX_ENV_WAIT.as_secs_f64()))
        .ok()
        .filter(|d| !d.is_zero())
}

pub fn home_dir() -> Option<PathBuf> {
    non_empty_path("HOME")
}

/// A variable holding words; one that is not UTF-8 counts as unset.
pub fn non_empty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A variable holding a path, taken as the bytes it is: a path need not be
/// UTF-8, and reading it as a string would silently drop it.
pub fn non_empty_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_from_the_environment_are_positive_finite_and_capped() {
        assert_eq!(seconds(" 2.5 "), Some(Duration::from_millis(2500)));
        assert_eq!(seconds("1e20"), Some(MAX_ENV_WAIT));
        assert_eq!(seconds("1e308"), Some(MAX_ENV_WAIT));
        for bad in [
            "", "inf", "-inf", "NaN", "-1", "0", "-0", "1e-320", "0x10", "5s",
        ] {
            assert_eq!(seconds(bad), None, "{bad:?}");
        }
    }
}
