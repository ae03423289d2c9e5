//! Normalisation: turns the decoded text of one report into clean blocks.
//!
//! Responsibilities:
//! - unify typography (curly quotes to straight, dashes to `-`, ligatures, odd spaces);
//! - strip Markdown marks (`#`, `**`, `*`) left by converters;
//! - drop page furniture: page numbers, running headers and footers, letterhead and
//!   address lines, contents pages, tables with tab-separated cells and the standard
//!   back-matter paragraphs (copyright, licence, how to get other formats);
//! - join lines broken inside a sentence or across a page break;
//! - keep paragraph and bullet boundaries, strip bullet glyphs and paragraph numbers;
//! - mark short, unpunctuated, capitalised lines as headings.
//!
//! Every block keeps the byte span of the source lines it was built from. The word lists it
//! reads page layout with (back matter, open line endings, stand-alone headings) are in
//! `data/lexicon/layout.toml`.

use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use crate::bytes::{equal, in_range, letters, words, ONES, TOP};
use crate::model::{Block, BlockKind, CleanText};

/// Lines longer than this (in bytes) are never taken as headings, headers or labels.
const HEADING_MAX_CHARS: usize = 72;
/// A heading built from several lines never has more words than this.
const HEADING_MAX_WORDS: usize = 22;

/// The layout word lists of `data/lexicon/layout.toml`: back matter, open line endings and
/// headings known to stand alone.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layout {
    back_matter: Vec<String>,
    open_endings: Vec<String>,
    known_headings: Vec<String>,
    known_heading_prefixes: Vec<String>,
}

const LAYOUT_TOML: &str = include_str!("../data/lexicon/layout.toml");

/// The bundled layout lists, lower-cased (parsed once).
static LAYOUT: LazyLock<Layout> = LazyLock::new(|| {
    let mut l: Layout = toml::from_str(LAYOUT_TOML).expect("bundled layout lexicon is valid");
    crate::codebook::lower_entries([
        &mut l.back_matter,
        &mut l.open_endings,
        &mut l.known_headings,
        &mut l.known_heading_prefixes,
    ]);
    l
});

static PAGE_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:page\s*)?\d{1,3}(?:\s*(?:of|/)\s*\d{1,3})?$|^-\s*\d{1,3}\s*-$").unwrap()
});

/// "Inspection of X local authority children's services 11 July 2022 4",
/// "Inspection report: Birmingham, 18 March - 9 April 2014 4" and similar running lines.
static RUNNING_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:inspection (?:of|report)\b|.{0,80}\b(?:focused|monitoring) visit\b).{0,160}\b(?:19|20)\d\d\s+\d{1,3}$",
    )
    .unwrap()
});

/// Letterhead lines: a web or mail address anywhere in the line, or a line that opens with
/// a telephone label or an office address. Two regexes, so that the line-start part is an
/// anchored search. Word boundaries are ASCII: the lazy DFA then runs on any text.
static LETTERHEAD_ANYWHERE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)www\.|https?://|@[a-z0-9-]+\.(?:gov|org|com|net|co)(?-u:\b)").unwrap()
});

static LETTERHEAD_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        ^(?:t|f|e|w|m|tel|fax|email|direct\s+[tfe]|text\s*phone|mobile|switchboard|dx)\s*[:.]?\s*(?:\+?\d[\d\s()]{6,}|$)
        |^(?:direct\s+[tfe]|text\s*phone|textphone)(?-u:\b)
        |^(?:piccadilly\s+gate|store\s+st(?:reet)?|aviation\s+house|agora|royal\s+exchange\s+buildings|nottingham\s+ng|manchester)(?-u:\b).{0,40}$
        ",
    )
    .unwrap()
});

/// A UK postcode at the end of a line (address blocks).
static POSTCODE_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}$").unwrap());

/// Paragraph labels: "12.", "12.3", "- 12." (the dash form comes from Markdown lists).
static PARA_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[-*]\s*)?(\d{1,3}(?:\.\d{1,2})?)\.?(?:\s+|$)").unwrap());

/// List labels: "(a)", "a)", "(iv)", "(3)", "3)".
static LIST_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\(([a-z]|[ivx]{1,4}|\d{1,2})\)|([a-z]|[ivx]{1,4}|\d{1,2})\))(?:\s+|$)")
        .unwrap()
});

/// A contents-page entry: a title followed by one or more page numbers.
static CONTENTS_ENTRY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(.*?[A-Za-z?:)].*?)(?:\s*\.{2,})?\s+\d{1,3}(?:\s+\d{1,3})*$").unwrap()
});

/// What a source line turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// Plain text.
    Text,
    /// Starts a bullet item.
    Bullet,
    /// Starts a numbered paragraph.
    Numbered,
    /// Starts with a bare number and a capitalised word ("34 Most children ..."): a
    /// paragraph number or footnote mark when it follows a finished sentence.
    LooseNumbered,
}

/// One cleaned source line.
#[derive(Debug, Clone)]
struct Line<'a> {
    /// Borrowed from the source when cleaning left the line as it was.
    text: Cow<'a, str>,
    /// The whole cleaned line, marker included, kept for lines whose marker may be text.
    full: Option<String>,
    start: usize,
    end: usize,
    /// True when a blank line or a page break came before it.
    gap_before: bool,
    kind: Start,
    /// True when the raw line held a tab (a table row in converter output).
    tabbed: bool,
    /// True when the marker was a plain dash, which converters also put before a
    /// paragraph's continuation on a new page.
    dash: bool,
}

/// Normalise the decoded text of one report into clean blocks.
pub fn normalise(source: &str) -> CleanText {
    let raw = split_lines(source);
    let lines = drop_furniture(raw);
    let blocks = build_blocks(&lines);
    CleanText {
        blocks: blocks
            .into_iter()
            .filter(|b| !is_back_matter(&b.text))
            .collect(),
    }
}

/// Raw lines with their byte spans; form feeds and the Unicode line and paragraph separators
/// count as line breaks.
fn split_lines(source: &str) -> Vec<(usize, usize, &str)> {
    let bytes = source.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 64 + 1);
    let mut start = 0;
    // U+2028 and U+2029 are E2 80 A8 and E2 80 A9; 0xE2 only ever starts a character.
    for i in memchr::memchr3_iter(b'\n', b'\x0c', 0xE2, bytes) {
        let width = match bytes[i] {
            0xE2 if bytes.get(i + 1) == Some(&0x80)
                && matches!(bytes.get(i + 2), Some(0xA8 | 0xA9)) =>
            {
                3
            }
            0xE2 => continue,
            _ => 1,
        };
        out.push((start, i, &source[start..i]));
        start = i + width;
    }
    if start < source.len() {
        out.push((start, source.len(), &source[start..]));
    }
    out
}

/// `s` cut down in place to `part`, a slice of it (no new allocation).
fn cut_to(mut s: String, part: std::ops::Range<usize>) -> String {
    s.truncate(part.end);
    s.drain(..part.start);
    s
}

/// Where `part`, a slice of `whole`, lies in it.
pub(crate) fn span_in(whole: &str, part: &str) -> std::ops::Range<usize> {
    let from = part.as_ptr() as usize - whole.as_ptr() as usize;
    from..from + part.len()
}

/// Unify typography and strip Markdown marks; collapse white space.
pub(crate) fn clean_line(raw: &str) -> Cow<'_, str> {
    if is_plain(raw.as_bytes()) {
        // Nothing to unify or collapse: what is left is the trim and the heading marks.
        return Cow::Borrowed(
            raw.trim_matches(' ')
                .trim_start_matches('#')
                .trim_start_matches(' '),
        );
    }
    Cow::Owned(clean_line_general(raw))
}

/// True for a line of printable ASCII without Markdown emphasis or code marks and without
/// two spaces in a row: [`clean_line`] would only trim it.
fn is_plain(bytes: &[u8]) -> bool {
    // Eight bytes at a time, the end padded with a letter: each printable, neither `*` nor
    // `` ` ``, and no space after a space (the last byte of the eight before counts too).
    let mut prev_space = 0u64;
    for x in words(bytes, b'a') {
        let kept = in_range(x, b' ', b'~') & !(equal(x, b'*') | equal(x, b'`'));
        let space = equal(x, b' ');
        let double = space & (space << 8 | prev_space);
        if kept != TOP || double != 0 {
            return false;
        }
        prev_space = space >> 56;
    }
    true
}

/// [`clean_line`] for any line.
fn clean_line_general(raw: &str) -> String {
    let mut s = String::with_capacity(raw.len());
    let mut last_space = true;
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Copy runs of plain ASCII in one go.
        let run_start = i;
        while i < bytes.len() && bytes[i].is_ascii_graphic() && bytes[i] != b'*' && bytes[i] != b'`'
        {
            i += 1;
        }
        if i > run_start {
            s.push_str(&raw[run_start..i]);
            last_space = false;
        }
        // A plain space, the commonest separator, without decoding.
        if bytes.get(i) == Some(&b' ') {
            if !last_space {
                s.push(' ');
                last_space = true;
            }
            i += 1;
            continue;
        }
        let Some(c) = raw[i..].chars().next() else {
            break;
        };
        i += c.len_utf8();
        let mapped: &str = match c {
            '*' => "",
            c => match plain_form(c) {
                Some(m) => m,
                None if c.is_whitespace() || c.is_control() => " ",
                None => {
                    s.push(c);
                    last_space = false;
                    continue;
                }
            },
        };
        if mapped == " " {
            if !last_space {
                s.push(' ');
                last_space = true;
            }
        } else if !mapped.is_empty() {
            s.push_str(mapped);
            last_space = false;
        }
    }
    let t = s.trim();
    // Markdown heading marks.
    let t = t.trim_start_matches('#').trim_start();
    let rt = raw.trim_start();
    if rt.starts_with("* ") || rt.starts_with("*\t") {
        // A Markdown list item: keep it recognisable as a bullet.
        return format!("- {t}");
    }
    let keep = span_in(&s, t);
    cut_to(s, keep)
}

/// The plain form of a typographic character, as normalisation and metadata read text:
/// curly and angled quotes, primes and backticks become straight quotes, dashes and the minus
/// sign `-`, ligatures their letters, and invisible characters (soft hyphen, zero-width
/// marks, byte order mark) nothing. `None` for any other character.
pub(crate) fn plain_form(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '`' | '\u{00B4}' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
        | '\u{00BB}' => "\"",
        '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
        '\u{FB00}' => "ff",
        '\u{FB01}' => "fi",
        '\u{FB02}' => "fl",
        '\u{FB03}' => "ffi",
        '\u{FB04}' => "ffl",
        '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}' => "",
        _ => return None,
    })
}

/// Bullet glyphs that can open a list item.
fn is_bullet_glyph(c: char) -> bool {
    // Symbol-font glyphs land in the private use area.
    ('\u{E000}'..='\u{F8FF}').contains(&c)
        || matches!(
            c,
            '\u{2022}'
                | '\u{25FC}'
                | '\u{25AA}'
                | '\u{25A0}'
                | '\u{25CF}'
                | '\u{25CB}'
                | '\u{25E6}'
                | '\u{2023}'
                | '\u{2219}'
                | '\u{00B7}'
                | '\u{F0B7}'
                | '\u{F0A7}'
                | '\u{27A2}'
                | '\u{2713}'
                | '\u{25BA}'
                | '\u{25B6}'
                | '\u{2043}'
                | '\u{25A1}'
                | '\u{F0D8}'
                | '\u{F076}'
        )
}

/// Split a leading bullet or label off a cleaned line; returns the kind and the text after it.
fn strip_marker(text: &str) -> (Start, &str) {
    let bytes = text.as_bytes();
    // Fast path: plain prose starts with a letter that is not a list label.
    if bytes.first().is_some_and(|b| b.is_ascii_alphabetic()) && bytes.get(1) != Some(&b')') {
        return (Start::Text, text);
    }
    let mut chars = text.chars();
    if let Some(c) = chars.next() {
        if is_bullet_glyph(c) {
            return (Start::Bullet, chars.as_str().trim_start());
        }
    }
    let dash_bullet = text.starts_with("- ");
    let body = if dash_bullet {
        text.trim_start_matches('-').trim_start()
    } else {
        text
    };
    if body.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        if let Some(m) = PARA_LABEL.captures(body) {
            let whole = m.get(0).map_or(0, |g| g.end());
            let rest = &body[whole..];
            // "2018. Since ..." is a wrapped year, not a label; labels are at most 3 digits,
            // and a label followed by text must be followed by a capital, quote or bracket.
            let rest_ok = rest.is_empty()
                || rest
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_uppercase() || c == '\'' || c == '"' || c == '(');
            let label_ok = m
                .get(0)
                .is_some_and(|g| g.as_str().trim_end().ends_with('.'))
                || rest.is_empty() && body.len() <= 6;
            if rest_ok && label_ok {
                return (Start::Numbered, rest);
            }
            let loose = rest.split(' ').next().is_some_and(|w| {
                w.len() >= 2
                    && w.chars().next().is_some_and(char::is_uppercase)
                    && w.chars().skip(1).all(char::is_lowercase)
            });
            if !dash_bullet && loose && m.get(1).is_some_and(|g| !g.as_str().contains('.')) {
                return (Start::LooseNumbered, rest);
            }
        }
    }
    if let Some(m) = LIST_LABEL.find(body) {
        let rest = &body[m.end()..];
        if !rest.is_empty() {
            return (Start::Bullet, rest);
        }
    }
    if dash_bullet {
        return (Start::Bullet, body);
    }
    (Start::Text, text)
}

/// Key for spotting lines repeated across pages: a hash of the letters, lower case.
fn repeat_key(text: &str) -> u64 {
    let mut key = LetterHash::default();
    if text.is_ascii() {
        // Eight bytes at a time (the end padded with a byte that is no letter), each run of
        // letters in them pushed at once.
        for x in words(text.as_bytes(), 0) {
            let mut left = letters(x);
            while left != 0 {
                let start = left.trailing_zeros() / 8;
                let after = !left & TOP & (u64::MAX << (8 * start));
                let end = if after == 0 {
                    8
                } else {
                    after.trailing_zeros() / 8
                };
                let len = end - start;
                let run = (x >> (8 * start)) & (u64::MAX >> (8 * (8 - len)));
                // Lower case, then the first byte highest, as `push` would have placed them.
                let run = (run | (ONES * 0x20)).swap_bytes() >> (8 * (8 - len));
                key.push_run(run, len);
                left &= u64::MAX.checked_shl(8 * end).unwrap_or(0);
            }
        }
        return key.finish();
    }
    let mut utf8 = [0u8; 4];
    for c in text.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphabetic() {
                key.push(c.to_ascii_lowercase() as u8);
            }
        } else if c.is_alphabetic() {
            for l in c.to_lowercase() {
                l.encode_utf8(&mut utf8).bytes().for_each(|b| key.push(b));
            }
        }
    }
    key.finish()
}

/// A hash of a byte sequence that packs eight bytes into a word before it mixes them in, so
/// that each byte costs a shift and an or rather than a multiplication.
#[derive(Default)]
struct LetterHash {
    hash: u64,
    word: u64,
    /// Bytes in `word`.
    len: u32,
}

impl LetterHash {
    const MIX: u64 = 0x9E37_79B9_7F4A_7C15;

    fn push(&mut self, b: u8) {
        self.word = self.word << 8 | u64::from(b);
        self.len += 1;
        if self.len == 8 {
            self.mix();
        }
    }

    /// Pushes `len` (1 to 8) bytes at once: `run` holds them in its low `len` bytes, the
    /// first highest, as `len` calls of [`LetterHash::push`] would.
    fn push_run(&mut self, run: u64, len: u32) {
        let room = 8 - self.len;
        if len < room {
            self.word = self.word << (8 * len) | run;
            self.len += len;
            return;
        }
        // The first `room` bytes fill the word; the rest start the next.
        let rest = len - room;
        let head = run >> (8 * rest);
        self.word = match room {
            8 => head,
            _ => self.word << (8 * room) | head,
        };
        self.mix();
        if rest > 0 {
            self.word = run & (u64::MAX >> (8 * (8 - rest)));
            self.len = rest;
        }
    }

    fn mix(&mut self) {
        self.hash = (self.hash.rotate_left(23) ^ self.word).wrapping_mul(Self::MIX);
        self.word = 0;
        self.len = 0;
    }

    fn finish(mut self) -> u64 {
        // The length of the last word keeps "ab" and "\0ab" apart (no letter is zero, but a
        // key must not depend on that).
        self.word ^= u64::from(self.len) << 59;
        self.mix();
        self.hash
    }
}

fn word_count(s: &str) -> usize {
    crate::model::count_words(s)
}

/// A letterhead line. Each regex runs only when the line could match it: the anywhere part
/// needs "www.", "http" or "@"; the line-start part needs a first letter one of its
/// alternatives begins with (a non-ASCII first character is left to the regex, for case
/// folding such as "ſ" for "s").
fn is_letterhead(text: &str) -> bool {
    let bytes = text.as_bytes();
    if may_open_letterhead(bytes) && LETTERHEAD_START.is_match(text) {
        return true;
    }
    let may_anywhere = bytes.contains(&b'@') || may_hold_web_address(bytes);
    may_anywhere && LETTERHEAD_ANYWHERE.is_match(text)
}

/// The first words of [`LETTERHEAD_START`]'s alternatives, lower case.
const LETTERHEAD_WORDS: [&[u8]; 21] = [
    b"t",
    b"f",
    b"e",
    b"w",
    b"m",
    b"tel",
    b"fax",
    b"email",
    b"direct",
    b"text",
    b"textphone",
    b"mobile",
    b"switchboard",
    b"dx",
    b"piccadilly",
    b"store",
    b"aviation",
    b"agora",
    b"royal",
    b"nottingham",
    b"manchester",
];

/// False when a line cannot match [`LETTERHEAD_START`]: it opens with a run of ASCII
/// letters, followed by an ASCII byte or nothing, that is none of the first words of its
/// alternatives in any case. Anything else is left to the regex (case-insensitive matching
/// also accepts some non-ASCII letters).
fn may_open_letterhead(bytes: &[u8]) -> bool {
    let word = bytes.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if bytes.get(word).is_some_and(|b| !b.is_ascii()) {
        return true;
    }
    if word == 0 {
        return false;
    }
    LETTERHEAD_WORDS
        .iter()
        .any(|w| w.eq_ignore_ascii_case(&bytes[..word]))
}

/// False when an ASCII line cannot match [`RUNNING_HEADER`]: it neither opens with
/// "inspection " nor holds "visit", in any case. Other lines are left to the regex.
fn may_be_running_header(bytes: &[u8]) -> bool {
    !bytes.is_ascii()
        || bytes
            .get(..11)
            .is_some_and(|b| b.eq_ignore_ascii_case(b"inspection "))
        || bytes.windows(5).any(|w| w.eq_ignore_ascii_case(b"visit"))
}

/// True when `bytes` may hold "www." or "http" in any case: each four bytes are read as one
/// word with the ASCII case bit set, so letters of either case compare as lower case (other
/// bytes may pass too; the regex decides).
fn may_hold_web_address(bytes: &[u8]) -> bool {
    const WWW: u32 = u32::from_le_bytes(*b"www.");
    const HTTP: u32 = u32::from_le_bytes(*b"http");
    bytes.windows(4).any(|w| {
        let word = u32::from_le_bytes([w[0], w[1], w[2], w[3]]) | 0x2020_2020;
        word == WWW || word == HTTP
    })
}

/// True for page numbers, running headers and footers and letterhead lines.
fn is_furniture(text: &str, repeats: usize, has_digit: bool) -> bool {
    let bytes = text.as_bytes();
    let last = bytes.last().copied().unwrap_or(b' ');
    if bytes.len() <= 16 && PAGE_NUMBER.is_match(text) {
        return true;
    }
    if bytes.len() > 240 {
        return false;
    }
    if last.is_ascii_digit() && may_be_running_header(bytes) && RUNNING_HEADER.is_match(text) {
        return true;
    }
    // The letterhead test rules most lines out at their first bytes: words are counted after.
    if is_letterhead(text) && word_count(text) <= 14 {
        return true;
    }
    if last.is_ascii_uppercase() && POSTCODE_END.is_match(text) && !ends_sentence(text) {
        return true;
    }
    // Lines repeated on several pages: headers and footers.
    if repeats >= 3 && bytes.len() <= 200 && !ends_sentence(text) {
        let words = word_count(text);
        if has_digit && words >= 2 {
            return true;
        }
        if words >= 5 {
            return true;
        }
    }
    false
}

/// True when the text ends a sentence (allowing closing quotes and brackets).
pub(crate) fn ends_sentence(text: &str) -> bool {
    let t = text.trim_end_matches(|c: char| {
        c == '"' || c == '\'' || c == ')' || c == ']' || c.is_whitespace()
    });
    matches!(t.chars().last(), Some('.' | '!' | '?' | ':' | ';'))
}

/// True when the text ends with a word or mark that needs a continuation.
fn ends_open(text: &str) -> bool {
    let t = text.trim_end();
    match t.chars().last() {
        None => false,
        Some(',' | '-' | '(' | '/' | '&' | '\'' | '"') => true,
        Some(_) => {
            let last = t.rsplit(' ').next().unwrap_or("");
            let lw = last.to_lowercase();
            LAYOUT.open_endings.contains(&lw)
        }
    }
}

fn starts_lower(text: &str) -> bool {
    text.chars().next().is_some_and(|c| c.is_lowercase())
}

/// A line that could be (part of) a heading on its own.
fn heading_like(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    if !(first.is_uppercase() || first.is_ascii_digit()) {
        return false;
    }
    if text.len() > HEADING_MAX_CHARS || word_count(text) > 14 {
        return false;
    }
    if text.ends_with('.') || text.ends_with(',') || text.ends_with(';') {
        return false;
    }
    !text.contains(". ")
}

/// Drop page furniture, contents pages and table rows; classify line starts.
fn drop_furniture(raw: Vec<(usize, usize, &str)>) -> Vec<Line<'_>> {
    let cleaned: Vec<(usize, usize, Cow<str>, bool, u64)> = raw
        .into_iter()
        .map(|(s, e, r)| {
            let t = clean_line(r);
            let key = if !t.is_empty() && t.len() <= 200 {
                repeat_key(&t)
            } else {
                0
            };
            (s, e, t, r.contains('\t'), key)
        })
        .collect();
    // The keys are hashes already: no need to hash them again with a keyed hasher.
    let mut counts: FxHashMap<u64, usize> =
        FxHashMap::with_capacity_and_hasher(cleaned.len(), Default::default());
    for (_, _, t, _, key) in &cleaned {
        if !t.is_empty() && t.len() <= 200 {
            *counts.entry(*key).or_insert(0) += 1;
        }
    }
    let mut out: Vec<Line> = Vec::with_capacity(cleaned.len());
    let mut gap = false;
    let mut in_contents = false;
    let mut contents_first: Option<u64> = None;
    for (start, end, owned, tabbed, key) in cleaned {
        let text: &str = &owned;
        if text.is_empty() {
            gap = true;
            continue;
        }
        let repeats = counts.get(&key).copied().unwrap_or(0);
        let has_digit = text.bytes().any(|b| b.is_ascii_digit());
        if text.len() <= 3
            && !text.chars().any(char::is_alphabetic)
            && !text.ends_with('.')
            && !is_bullet_glyph_str(text)
        {
            // Stray numbers and marks.
            if PAGE_NUMBER.is_match(text) || !text.chars().any(|c| c.is_ascii_digit()) {
                gap = true;
                continue;
            }
        }
        if is_furniture(text, repeats, has_digit) {
            gap = true;
            continue;
        }
        // Contents pages.
        if text.len() <= 20
            && ["contents", "table of contents", "contents page"]
                .iter()
                .any(|c| c.eq_ignore_ascii_case(text))
        {
            in_contents = true;
            contents_first = None;
            gap = true;
            continue;
        }
        if in_contents {
            let entry = CONTENTS_ENTRY.captures(text);
            let title_key = entry
                .as_ref()
                .and_then(|c| c.get(1))
                .map(|g| repeat_key(g.as_str()));
            let is_entry =
                entry.is_some() || (text.len() <= HEADING_MAX_CHARS && !ends_sentence(text));
            let back_to_first =
                contents_first.as_ref().is_some_and(|f| *f == key) && entry.is_none();
            if is_entry && !back_to_first && !tabbed_prose(text) {
                if contents_first.is_none() {
                    contents_first = title_key.or(Some(key));
                }
                gap = true;
                continue;
            }
            in_contents = false;
        }
        let (kind, body) = strip_marker(text);
        let dash = kind == Start::Bullet && text.starts_with("- ");
        if body.is_empty() && kind == Start::Text {
            continue;
        }
        let full = (kind == Start::LooseNumbered).then(|| text.to_string());
        // The body is a slice of the cleaned line: keep that line, cut to the body.
        let keep = span_in(text, body);
        let body = match owned {
            Cow::Borrowed(line) => Cow::Borrowed(&line[keep]),
            Cow::Owned(line) => Cow::Owned(cut_to(line, keep)),
        };
        out.push(Line {
            text: body,
            full,
            start,
            end,
            gap_before: gap,
            kind,
            tabbed,
            dash,
        });
        gap = false;
    }
    out
}

fn is_bullet_glyph_str(s: &str) -> bool {
    s.chars().next().is_some_and(is_bullet_glyph)
}

/// Long prose ends a contents page.
fn tabbed_prose(text: &str) -> bool {
    text.len() > 100 || ends_sentence(text) && word_count(text) > 8
}

/// A block under construction.
struct Open {
    kind: BlockKind,
    text: String,
    start: usize,
    end: usize,
    /// The label or glyph came alone on its line and the text is still to come.
    awaiting_text: bool,
    lines: usize,
    first_line_len: usize,
}

fn push_text(buf: &mut String, more: &str) {
    if buf.is_empty() {
        buf.push_str(more);
    } else if buf.ends_with('-') && more.chars().next().is_some_and(|c| c.is_lowercase()) {
        // Word broken at a hyphen.
        buf.push_str(more);
    } else {
        buf.push(' ');
        buf.push_str(more);
    }
}

fn finish(open: Option<Open>, out: &mut Vec<Block>) {
    let Some(o) = open else { return };
    let keep = span_in(&o.text, o.text.trim());
    let text = cut_to(o.text, keep);
    if text.is_empty() {
        return;
    }
    let kind = if o.kind == BlockKind::Heading && !is_heading_text(&text, o.first_line_len) {
        BlockKind::Paragraph
    } else {
        o.kind
    };
    out.push(Block {
        kind,
        text,
        source_start: o.start,
        source_end: o.end,
    });
}

/// Final check on a heading candidate assembled from one or more lines.
fn is_heading_text(text: &str, first_line_len: usize) -> bool {
    first_line_len <= HEADING_MAX_CHARS
        && text.len() <= 180
        && word_count(text) <= HEADING_MAX_WORDS
        && !text.ends_with('.')
        && !text.ends_with(',')
        && !text.ends_with(';')
        && !text.contains(". ")
}

fn build_blocks(lines: &[Line]) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut open: Option<Open> = None;
    for line in lines {
        if line.tabbed {
            // A table row (such as a judgement grid): kept as a heading-like block so
            // its cells stay readable, but never prose.
            finish(open.take(), &mut out);
            out.push(Block {
                kind: BlockKind::Heading,
                text: line.full.clone().unwrap_or_else(|| line.text.to_string()),
                source_start: line.start,
                source_end: line.end,
            });
            continue;
        }
        let mut kind = line.kind;
        let mut text: &str = &line.text;
        if kind == Start::LooseNumbered {
            let after_sentence = match &open {
                None => true,
                Some(o) => {
                    o.kind == BlockKind::Heading || (ends_sentence(&o.text) && !o.awaiting_text)
                }
            };
            if after_sentence {
                kind = Start::Numbered;
            } else {
                kind = Start::Text;
                text = line.full.as_deref().unwrap_or(&line.text);
            }
        }
        match kind {
            Start::Bullet | Start::Numbered => {
                // A dash before a lower-case line that finishes an open sentence.
                if line.dash && starts_lower(text) {
                    if let Some(o) = open.as_mut() {
                        if o.kind == BlockKind::Paragraph
                            && !o.awaiting_text
                            && !ends_sentence(&o.text)
                        {
                            push_text(&mut o.text, text);
                            o.end = line.end;
                            o.lines += 1;
                            continue;
                        }
                    }
                }
                // A numbered label right after an unfinished sentence on the same page is
                // more likely a wrapped number; keep it in the sentence.
                if kind == Start::Numbered && !line.gap_before {
                    if let Some(o) = open.as_mut() {
                        if o.kind != BlockKind::Heading && !o.awaiting_text && ends_open(&o.text) {
                            push_text(&mut o.text, &line.text);
                            o.end = line.end;
                            continue;
                        }
                    }
                }
                finish(open.take(), &mut out);
                let kind = if kind == Start::Bullet {
                    BlockKind::Bullet
                } else {
                    BlockKind::Paragraph
                };
                open = Some(Open {
                    kind,
                    text: text.to_string(),
                    start: line.start,
                    end: line.end,
                    awaiting_text: text.is_empty(),
                    lines: 1,
                    first_line_len: text.len(),
                });
                continue;
            }
            Start::Text | Start::LooseNumbered => {}
        }
        if let Some(o) = open.as_mut() {
            if o.awaiting_text {
                o.text = text.to_string();
                o.end = line.end;
                o.awaiting_text = false;
                o.first_line_len = text.len();
                continue;
            }
            let cont = match o.kind {
                BlockKind::Heading => starts_lower(text) || ends_open(&o.text),
                _ => {
                    if ends_sentence(&o.text) {
                        // A new sentence on the next line of the same paragraph (no gap)
                        // belongs to the paragraph unless it looks like a heading.
                        !line.gap_before
                            && o.kind == BlockKind::Paragraph
                            && !heading_like(text)
                            && kind == Start::Text
                            && o.lines > 0
                            && !o.text.ends_with(':')
                    } else if starts_lower(text) || ends_open(&o.text) {
                        true
                    } else if line.gap_before {
                        false
                    } else {
                        // Same page, no blank line, unfinished sentence.
                        !(heading_like(text)
                            && (known_heading(text) || o.kind == BlockKind::Bullet))
                    }
                }
            };
            if cont {
                push_text(&mut o.text, text);
                o.end = line.end;
                o.lines += 1;
                continue;
            }
        }
        finish(open.take(), &mut out);
        let kind = if heading_like(text) {
            BlockKind::Heading
        } else {
            BlockKind::Paragraph
        };
        open = Some(Open {
            kind,
            text: text.to_string(),
            start: line.start,
            end: line.end,
            awaiting_text: false,
            lines: 1,
            first_line_len: text.len(),
        });
    }
    finish(open.take(), &mut out);
    out
}

/// Section titles that stand as headings even mid-page with no blank line around them.
fn known_heading(text: &str) -> bool {
    let t = text
        .trim_end_matches(|c: char| c == '?' || c == ':' || c.is_ascii_digit())
        .to_lowercase();
    LAYOUT.known_headings.contains(&t)
        || LAYOUT
            .known_heading_prefixes
            .iter()
            .any(|p| t.starts_with(p.as_str()))
}

fn is_back_matter(text: &str) -> bool {
    // Only the first 120 characters are compared, lower-cased. When those are ASCII (as
    // almost every block is), compare bytes without building a lower-case copy.
    let n = text.len().min(120);
    if text.is_char_boundary(n) && text.as_bytes()[..n].is_ascii() {
        let head = &text.as_bytes()[..n];
        return LAYOUT
            .back_matter
            .iter()
            .any(|p| head.len() >= p.len() && head[..p.len()].eq_ignore_ascii_case(p.as_bytes()));
    }
    let head: String = text
        .chars()
        .take(120)
        .flat_map(char::to_lowercase)
        .collect();
    LAYOUT.back_matter.iter().any(|p| head.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_layout_lists_load() {
        assert!(LAYOUT
            .back_matter
            .iter()
            .any(|p| p.starts_with("ofsted is")));
        assert!(LAYOUT.open_endings.iter().any(|w| w == "the"));
        assert!(LAYOUT.known_headings.iter().any(|h| h == "overview"));
        assert!(!LAYOUT.known_heading_prefixes.is_empty());
    }

    fn kinds(src: &str) -> Vec<(BlockKind, String)> {
        normalise(src)
            .blocks
            .into_iter()
            .map(|b| (b.kind, b.text))
            .collect()
    }

    #[test]
    fn cleans_typography_and_markdown() {
        let cases = [
            ("children\u{2019}s services", "children's services"),
            ("\u{201C}good\u{201D} \u{2013} mostly", "\"good\" - mostly"),
            ("## **Overview**", "Overview"),
            ("  multi   agency\tworking ", "multi agency working"),
            ("e\u{FB00}ective", "effective"),
        ];
        for (raw, want) in cases {
            assert_eq!(clean_line(raw), want, "{raw}");
        }
    }

    proptest::proptest! {
        /// ASCII lines hash eight bytes at a time as byte by byte.
        #[test]
        fn repeat_keys_eight_bytes_at_a_time(
            text in "([a-zA-Z]{1,11}|[ 0-9.,:@_\\[\\]{}`\x7f]{1,3}){0,14}"
        ) {
            let mut one_by_one = LetterHash::default();
            text.bytes()
                .filter(u8::is_ascii_alphabetic)
                .for_each(|b| one_by_one.push(b.to_ascii_lowercase()));
            proptest::prop_assert_eq!(repeat_key(&text), one_by_one.finish());
        }
    }

    proptest::proptest! {
        /// The cheap tests before the furniture regexes never turn away a line they match.
        #[test]
        fn furniture_prefilters_keep_every_match(
            line in "(Tel|TEL|t|F|e|Email|Direct|direct T|Textphone|Text phone|Piccadilly Gate|Store St|Royal Exchange Buildings|Manchester|Inspection of|inspection report|Focused visit|monitoring VISIT|The|Wirral|[a-z]{1,8}|\u{017F}|\u{212A}|[ :.+()]{1,2}|[0-9]{1,4}| 2018 4|\u{E9})*"
        ) {
            if LETTERHEAD_START.is_match(&line) {
                proptest::prop_assert!(may_open_letterhead(line.as_bytes()), "{line:?}");
            }
            if RUNNING_HEADER.is_match(&line) {
                proptest::prop_assert!(may_be_running_header(line.as_bytes()), "{line:?}");
            }
        }
    }

    #[test]
    fn furniture_prefilters_keep_real_furniture() {
        for line in [
            "Tel: 0300 123 1231",
            "T 0300 123 4666",
            "Email:",
            "Direct T 0161 618 8524",
            "Textphone 0161 618 8524",
            "Piccadilly Gate Store Street",
            "Royal Exchange Buildings",
        ] {
            assert!(LETTERHEAD_START.is_match(line), "{line}");
            assert!(may_open_letterhead(line.as_bytes()), "{line}");
        }
        for line in [
            "Inspection of Wirral local authority children's services 11 July 2022 4",
            "Inspection report: Birmingham, 18 March - 9 April 2014 4",
            "Focused visit to Wigan children's services 14 March 2020 3",
            "Wigan: MONITORING VISIT of children's services 2019 12",
        ] {
            assert!(RUNNING_HEADER.is_match(line), "{line}");
            assert!(may_be_running_header(line.as_bytes()), "{line}");
        }
        assert!(!may_open_letterhead(b"The local authority"));
        assert!(!may_be_running_header(b"Children were seen in 2018 4"));
    }

    #[test]
    fn plain_lines_at_every_offset() {
        for at in 0..20 {
            let words = |gap: &str| format!("{}{gap}{}", "a".repeat(at), "b".repeat(10));
            assert!(is_plain(words(" ").as_bytes()), "{at}");
            assert!(!is_plain(words("  ").as_bytes()), "{at}");
            assert!(!is_plain(words("*").as_bytes()), "{at}");
            assert!(!is_plain(words("\u{E9}").as_bytes()), "{at}");
        }
    }

    proptest::proptest! {
        /// The shortcut for plain lines gives what the general cleaner gives.
        #[test]
        fn plain_lines_clean_as_any_line(raw in "[ #*`a-cA-C0-9.,'\t\u{2019}\u{00A0}-]{0,30}") {
            proptest::prop_assert_eq!(clean_line(&raw), clean_line_general(&raw));
        }

        /// Lines are found plain eight bytes at a time as byte by byte.
        #[test]
        fn plain_eight_bytes_at_a_time(
            raw in "([a-z]{1,9}|[ ]{1,2}|[*`~\t\x1f\x7f]|\u{E9}){0,12}"
        ) {
            let reference = raw.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'*' && b != b'`')
                && !raw.contains("  ");
            proptest::prop_assert_eq!(is_plain(raw.as_bytes()), reference);
        }
    }

    proptest::proptest! {
        /// Two lines share a repeat key when they hold the same letters, whatever their case,
        /// digits, marks and spacing, by either path (ASCII or not).
        #[test]
        fn repeat_keys_compare_letters(a in "[a-zA-Z0-9 .,:\u{2013}\u{00E9}\u{00C9}]{0,40}",
                                       b in "[a-zA-Z0-9 .,:\u{2013}\u{00E9}\u{00C9}]{0,40}") {
            let letters = |s: &str| -> String {
                s.chars().filter(|c| c.is_alphabetic()).flat_map(char::to_lowercase).collect()
            };
            proptest::prop_assert_eq!(repeat_key(&a) == repeat_key(&b), letters(&a) == letters(&b));
            // The same letters in another case, without digits and with a page number after.
            let other: String = a.chars().filter(|c| !c.is_ascii_digit()).flat_map(char::to_uppercase).collect();
            proptest::prop_assert_eq!(repeat_key(&a), repeat_key(&format!("{other} 12")));
        }
    }

    #[test]
    fn repeat_keys_ignore_page_numbers_and_typography() {
        let k = repeat_key("Inspection of Wirral local authority children's services 3");
        assert_eq!(
            k,
            repeat_key("INSPECTION OF WIRRAL LOCAL AUTHORITY CHILDREN\u{2019}S SERVICES 14")
        );
        assert_ne!(
            k,
            repeat_key("Inspection of Wigan local authority children's services 3")
        );
        assert_eq!(repeat_key("Caf\u{00E9} 2"), repeat_key("CAF\u{00C9}"));
        assert_ne!(repeat_key("abcdefgh"), repeat_key("abcdefghi"));
    }

    #[test]
    fn web_addresses_are_spotted_in_any_case() {
        for yes in ["see WWW.ofsted.gov.uk", "Http://x", "a www. b", "https"] {
            assert!(may_hold_web_address(yes.as_bytes()), "{yes}");
        }
        for no in ["", "ww.", "htt", "with what which", "the web"] {
            assert!(!may_hold_web_address(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn drops_page_furniture() {
        let furniture = [
            "4",
            "Page 3 of 12",
            "Inspection of Nottingham City local authority children's services 11 July 2022 4",
            "Piccadilly Gate Store Street Manchester M1 2WD www.ofsted.gov.uk",
            "T 0300 123 1231 enquiries@ofsted.gov.uk",
            "Direct T 0300 013 1234",
            "Textphone: 0161 618 8524",
            "Paul Boyce Director of Children's Services Metropolitan Borough of Wirral Hamilton Building 132 Conway Street Birkenhead Wirral **CH41 6JE**",
        ];
        for f in furniture {
            let src = format!("Overview\n\n{f}\n\nThreshold guidance was relaunched in 2017.\n");
            let b = kinds(&src);
            assert_eq!(b.len(), 2, "{f}: {b:?}");
            assert_eq!(b[1].1, "Threshold guidance was relaunched in 2017.");
        }
    }

    #[test]
    fn joins_broken_sentences() {
        let cases = [
            (
                "The quality of assessments at the\n\n\n\nIFD is good. However, more is needed.\n",
                "The quality of assessments at the IFD is good. However, more is needed.",
            ),
            (
                "This enables managers to capture data about contacts more\n\x0c\n\naccurately.\n",
                "This enables managers to capture data about contacts more accurately.",
            ),
            (
                "on 1 April 2021. NCT also delivers these functions for West Northamptonshire County\nCouncil, with the result that services are shared.\n",
                "on 1 April 2021. NCT also delivers these functions for West Northamptonshire County Council, with the result that services are shared.",
            ),
            (
                "Children are seen\n5\nInspection of Dudley local authority children's services 31 October 2022 5\nregularly by their social workers.\n",
                "Children are seen regularly by their social workers.",
            ),
        ];
        for (src, want) in cases {
            let b = kinds(src);
            assert_eq!(b.len(), 1, "{src:?}: {b:?}");
            assert_eq!(b[0].1, want);
        }
    }

    #[test]
    fn keeps_bullets_headings_and_labels() {
        let src = "What needs to improve?1\n\u{25FC} The quality of the support and plans for children in need, including disabled\nchildren.\n\u{25FC} Frontline workforce sufficiency\nThe experiences and progress of children who need help and\nprotection: good\n1. Children and families benefit from early help. The new\napproach supports partners.\n\n2.\n\nWhen initial requests are made, children receive timely responses.\n";
        let b = kinds(src);
        let want = [
            (BlockKind::Heading, "What needs to improve?1"),
            (
                BlockKind::Bullet,
                "The quality of the support and plans for children in need, including disabled children.",
            ),
            (BlockKind::Bullet, "Frontline workforce sufficiency"),
            (
                BlockKind::Heading,
                "The experiences and progress of children who need help and protection: good",
            ),
            (
                BlockKind::Paragraph,
                "Children and families benefit from early help. The new approach supports partners.",
            ),
            (
                BlockKind::Paragraph,
                "When initial requests are made, children receive timely responses.",
            ),
        ];
        assert_eq!(b.len(), want.len(), "{b:?}");
        for ((k, t), (wk, wt)) in b.iter().zip(want) {
            assert_eq!((*k, t.as_str()), (wk, wt));
        }
    }

    #[test]
    fn markdown_numbered_paragraphs_and_contents() {
        let src = "Contents\n\nAbout this inspection\t2\nService information\t3\nRecord of main findings:\t33\n\nAbout this inspection\n\n- 1. The purpose of the inspection is to evaluate services.\n- 2. The evidence evaluated by inspectors included:\n - discussions with children and young people\n - interviews with health professionals.\n";
        let b = kinds(src);
        let texts: Vec<&str> = b.iter().map(|x| x.1.as_str()).collect();
        assert_eq!(
            texts,
            [
                "About this inspection",
                "The purpose of the inspection is to evaluate services.",
                "The evidence evaluated by inspectors included:",
                "discussions with children and young people",
                "interviews with health professionals.",
            ]
        );
        assert_eq!(b[3].0, BlockKind::Bullet);
    }

    #[test]
    fn never_panics_on_odd_input() {
        let long = "a".repeat(1 << 16);
        let inputs = [
            "",
            "\n\n\x0c\n",
            "\u{25FC}",
            "1.",
            "- ",
            "(a)",
            "é\u{2019}\u{FB01}",
            long.as_str(),
        ];
        for i in inputs {
            let c = normalise(i);
            for b in &c.blocks {
                assert!(b.source_start <= b.source_end && b.source_end <= i.len());
            }
        }
    }
}
