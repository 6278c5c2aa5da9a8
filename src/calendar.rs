//! Time as people and wire formats write it: Unix seconds to and from
//! RFC 3339 UTC, the local time for `status`, and spans (`2 h 5 min`).

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Unix seconds as a person reads them: the local time with its offset
/// from UTC (`2025-03-01 14:05 +01:00`, `TZ` honoured), or UTC labelled as
/// such where the local time cannot be known.
pub fn format_local(secs: u64) -> String {
    match local_offset(secs) {
        Some(offset) => {
            let local = format_utc(secs.saturating_add_signed(offset));
            let sign = if offset < 0 { '-' } else { '+' };
            let off = offset.unsigned_abs();
            format!(
                "{} {} {sign}{:02}:{:02}",
                &local[..10],
                &local[11..16],
                off / 3600,
                off % 3600 / 60
            )
        }
        None => {
            let utc = format_utc(secs);
            format!("{} {} UTC", &utc[..10], &utc[11..16])
        }
    }
}

/// The local offset from UTC at `secs`, in seconds, from the C library's
/// time zone rules (`TZ`, else `/etc/localtime`).
#[cfg(unix)]
// localtime_r(3) is the one way to the system's time zone rules without a
// new dependency; it writes only into the `tm` given to it.
#[allow(unsafe_code)]
// `tm_gmtoff` is a C long: i64 here, i32 on 32-bit targets.
#[allow(clippy::useless_conversion)]
// The libc crate marks musl's `time_t` deprecated because its width
// changed in musl 1.2; `try_from` fits either width.
#[cfg_attr(target_env = "musl", allow(deprecated))]
fn local_offset(secs: u64) -> Option<i64> {
    let time = libc::time_t::try_from(secs).ok()?;
    // SAFETY: an all-zero `tm` is a valid value (integers and a null
    // `tm_zone` pointer), and localtime_r only writes into it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live values of the right types.
    let done = unsafe { libc::localtime_r(&time, &mut tm) };
    (!done.is_null()).then(|| i64::from(tm.tm_gmtoff))
}

#[cfg(not(unix))]
fn local_offset(_secs: u64) -> Option<i64> {
    None
}

/// A span of seconds as a person says it: `2 h 5 min`, `45 min`, `3 d 4 h`,
/// `30 s`.
pub fn format_span(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` back to Unix seconds: exactly what
/// [`format_utc`] writes, nothing else (no offsets, no fractions).
pub fn parse_utc(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let shape = b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z';
    if !shape {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    // Howard Hinnant's days-from-civil, the inverse of format_utc's.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    let secs = u64::try_from(secs).ok()?;
    // A day that does not exist in that month (02-30) comes back as another.
    (format_utc(secs) == text).then_some(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_a_person_says_them() {
        assert_eq!(format_span(30), "30 s");
        assert_eq!(format_span(45 * 60 + 59), "45 min");
        assert_eq!(format_span(2 * 3600), "2 h");
        assert_eq!(format_span(2 * 3600 + 5 * 60), "2 h 5 min");
        assert_eq!(format_span(3 * 86_400 + 4 * 3600 + 60), "3 d 4 h");
        assert_eq!(format_span(86_400), "1 d");
        let local = format_local(784_111_777);
        assert!(
            local.starts_with("1994-11-0") && (local.ends_with(" UTC") || local.contains(':')),
            "{local}"
        );
    }

    #[test]
    fn utc_formatting() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_796_000_000), "2026-11-30T00:53:20Z");
    }

    #[test]
    fn utc_parsing_is_the_inverse_of_formatting() {
        for secs in [0, 951_782_400, 1_796_000_000, 4_102_444_799] {
            assert_eq!(parse_utc(&format_utc(secs)), Some(secs));
        }
        for bad in [
            "",
            "2026-11-30T00:53:20",
            "2026-11-30T00:53:20+01:00",
            "2026-11-30 00:53:20Z",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-30T24:00:00Z",
            "+026-11-30T00:53:20Z",
            "1969-12-31T23:59:59Z",
            "2026-11-30T00:53:2éZ",
        ] {
            assert_eq!(parse_utc(bad), None, "{bad:?}");
        }
    }
}
