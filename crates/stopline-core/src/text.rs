//! Text that came from outside (alert labels, summaries, what a person typed) made safe to show:
//! on a terminal, where a control character is a command (`ESC ]0;…` retitles the window, `ESC
//! [2J` clears it, a bare CR overwrites the line), and inside Markdown or HTML, where `<script>`,
//! a `[link](javascript:…)` or a line break that starts a heading would be markup.
//!
//! Stored text is never changed: these functions make a copy for one reader. JSON output needs
//! none of this (its encoder escapes control characters) and stays exact.

use std::borrow::Cow;

/// Characters that reorder what follows them on screen (the "Trojan Source" trick): shown
/// escaped like control characters, so a label cannot make text read backwards.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// Whether `c` must not reach a terminal as it is: C0 and C1 control characters (including
/// ESC, CR, LF, TAB, NUL, DEL) and the bidirectional overrides.
pub fn is_unsafe_on_terminal(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// `text` with every control character written as a Rust escape (`\u{1b}`, `\r`, `\n`, `\0`),
/// so what a terminal shows is exactly what was received and nothing in it acts on the
/// terminal. Borrowed when nothing needs escaping, which is nearly always.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_on_terminal) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_bidi_control(c) {
            escaped.extend(c.escape_unicode());
        } else if c.is_control() {
            escaped.extend(c.escape_debug());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

/// `text` cut to at most `max_chars` characters, the last of them an ellipsis when it was cut.
pub fn shorten(text: &str, max_chars: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => Cow::Borrowed(text),
        Some(_) if max_chars == 0 => Cow::Borrowed(""),
        Some(_) => {
            let keep = text
                .char_indices()
                .nth(max_chars - 1)
                .map_or(text.len(), |(i, _)| i);
            Cow::Owned(format!("{}…", &text[..keep]))
        }
    }
}

/// Characters Markdown (CommonMark and GitHub's) reads as inline markup: emphasis, code,
/// links and images (which need `[`), table cells, strikethrough, headings. Inline text never
/// starts a line (line breaks are escaped), so characters that are markup only at the start of
/// a line (`-`, `+`, `1.`) stay as they are and the text stays readable.
const MARKDOWN_SPECIAL: &[char] = &['\\', '`', '*', '_', '[', ']', '|', '~', '#'];

/// `text` as literal Markdown inline text: punctuation that is markup is backslash-escaped, `<`,
/// `>` and `&` become HTML entities (so no tag, comment or entity survives even in a renderer
/// that passes HTML through), and every line break or control character is shown escaped, so
/// the text stays on its line and cannot start a heading, a list or a table row.
pub fn markdown_inline(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            c if is_unsafe_on_terminal(c) => {
                // The backslash of the escape is itself escaped, so it shows as written.
                escaped.push_str(&escape_controls(&c.to_string()).replace('\\', "\\\\"));
            }
            c if MARKDOWN_SPECIAL.contains(&c) => {
                escaped.push('\\');
                escaped.push(c);
            }
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(escape_controls("plain"), Cow::Borrowed("plain"));
        assert_eq!(
            escape_controls("\x1b]0;pwned\x07ok\r\nall clear\0"),
            "\\u{1b}]0;pwned\\u{7}ok\\r\\nall clear\\0"
        );
        assert_eq!(escape_controls("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(escape_controls("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(escape_controls("tab\there"), "tab\\there");
        // Printable text in any script is left alone.
        assert_eq!(
            escape_controls("Zahlung fällig – 支付"),
            "Zahlung fällig – 支付"
        );
    }

    #[test]
    fn shortening_counts_characters_and_marks_the_cut() {
        assert_eq!(shorten("abcdef", 6), "abcdef");
        assert_eq!(shorten("abcdefg", 6), "abcde…");
        assert_eq!(shorten("äöüäöüä", 3), "äö…");
        assert_eq!(shorten("abc", 0), "");
        assert_eq!(shorten("abc", 1), "…");
    }

    #[test]
    fn markdown_text_cannot_become_markup() {
        assert_eq!(
            markdown_inline("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            markdown_inline("<img src=x onerror=alert(1)>"),
            "&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(
            markdown_inline("[click](javascript:alert(1))"),
            "\\[click\\](javascript:alert(1))"
        );
        assert_eq!(
            markdown_inline("**bold** `code`"),
            "\\*\\*bold\\*\\* \\`code\\`"
        );
        assert_eq!(markdown_inline("ok\r# Pwned"), "ok\\\\r\\# Pwned");
        assert_eq!(markdown_inline("a | b"), "a \\| b");
        assert!(!markdown_inline("x\ny").contains('\n'));
        assert_eq!(
            markdown_inline("payments-api: 5xx ratio > 5%."),
            "payments-api: 5xx ratio &gt; 5%."
        );
    }
}
