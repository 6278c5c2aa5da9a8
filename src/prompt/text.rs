//! What is said to a person. For now: text that someone else chose (an
//! account name git passed on, a server's error description, a provider
//! name) made safe to show on a terminal.
//!
//! A terminal acts on control characters (ESC starts sequences that retitle
//! the window, rewrite the screen or, on some terminals, answer back), and
//! format characters change what a person reads without being seen: U+202E
//! RIGHT-TO-LEFT OVERRIDE shows `moc.evil` for `live.com`, zero-width and
//! invisible characters make two different names look alike (Unicode
//! Technical Report #36 §2, Trojan Source CVE-2021-42574).

use std::fmt::Write;

/// Unicode 15.1 `General_Category=Cf` (format characters), as ranges of
/// code points. Generated from UnicodeData.txt; U+2065, unassigned inside
/// the invisible operators block, is included so the block is whole.
const FORMAT: [(u32, u32); 20] = [
    (0x00AD, 0x00AD),   // SOFT HYPHEN
    (0x0600, 0x0605),   // Arabic number signs
    (0x061C, 0x061C),   // ARABIC LETTER MARK
    (0x06DD, 0x06DD),   // ARABIC END OF AYAH
    (0x070F, 0x070F),   // SYRIAC ABBREVIATION MARK
    (0x0890, 0x0891),   // Arabic pound and piastre marks above
    (0x08E2, 0x08E2),   // ARABIC DISPUTED END OF AYAH
    (0x180E, 0x180E),   // MONGOLIAN VOWEL SEPARATOR
    (0x200B, 0x200F),   // zero-width space, (non-)joiner, LRM, RLM
    (0x202A, 0x202E),   // bidi embeddings and overrides
    (0x2060, 0x206F),   // word joiner, invisible operators, bidi isolates, deprecated formats
    (0xFEFF, 0xFEFF),   // ZERO WIDTH NO-BREAK SPACE (byte order mark)
    (0xFFF9, 0xFFFB),   // interlinear annotation
    (0x110BD, 0x110BD), // KAITHI NUMBER SIGN
    (0x110CD, 0x110CD), // KAITHI NUMBER SIGN ABOVE
    (0x13430, 0x1343F), // Egyptian hieroglyph format controls
    (0x1BCA0, 0x1BCA3), // shorthand format controls
    (0x1D173, 0x1D17A), // musical symbol beam and slur controls
    (0xE0001, 0xE0001), // LANGUAGE TAG
    (0xE0020, 0xE007F), // tag characters
];

/// Whether `c` is a format character (`Cf`).
fn is_format(c: char) -> bool {
    let c = u32::from(c);
    FORMAT.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// Whether `c` must not reach a terminal as it is: a control character
/// (`Cc`: C0, DEL and C1), a format character (`Cf`), or the line and
/// paragraph separators U+2028 and U+2029 (`Zl`, `Zp`), which some
/// terminals and most viewers treat as line breaks.
pub fn is_unsafe_on_a_terminal(c: char) -> bool {
    c.is_control() || is_format(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `text` with every character [`is_unsafe_on_a_terminal`] written as a
/// visible escape: `\x1b` below U+0080, `\u{202e}` above, so a person sees
/// that something is there and what. Everything else is kept as it is.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if !is_unsafe_on_a_terminal(c) {
            out.push(c);
        } else if c.is_ascii() {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_format_characters_are_escaped_visibly() {
        assert_eq!(
            escape("\u{1b}]0;pwned\u{7}\u{202e}x\u{200b}y\u{feff}z\u{ad}"),
            r"\x1b]0;pwned\x07\u{202e}x\u{200b}y\u{feff}z\u{ad}"
        );
        assert_eq!(escape("a\nb\r\t\u{7f}\u{9b}"), r"a\x0ab\x0d\x09\x7f\u{9b}");
        assert_eq!(
            escape("\u{2066}\u{2069}\u{2028}\u{e0041}"),
            r"\u{2066}\u{2069}\u{2028}\u{e0041}"
        );
    }

    #[test]
    fn ordinary_text_is_kept() {
        for s in [
            "alice",
            "Ærøskøbing",
            "名前",
            "DOMAIN\\user",
            "a b",
            "🙂",
            "ﷺ",
        ] {
            assert_eq!(escape(s), s);
        }
    }

    #[test]
    fn the_format_table_is_well_formed() {
        for &(lo, hi) in &FORMAT {
            assert!(lo <= hi);
            assert!(char::from_u32(lo).is_some() && char::from_u32(hi).is_some());
        }
        // Spot checks against UnicodeData.txt.
        for c in [
            '\u{ad}',
            '\u{600}',
            '\u{61c}',
            '\u{200b}',
            '\u{200f}',
            '\u{202a}',
            '\u{2064}',
            '\u{2066}',
            '\u{206f}',
            '\u{feff}',
            '\u{fffb}',
            '\u{1343f}',
            '\u{e0001}',
            '\u{e007f}',
        ] {
            assert!(is_format(c), "{c:?}");
        }
        for c in [
            'a',
            ' ',
            '\u{2010}',
            '\u{2070}',
            '\u{fffc}',
            '\u{e0080}',
            '\u{200a}',
        ] {
            assert!(!is_format(c), "{c:?}");
        }
    }
}
