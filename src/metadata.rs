//! Report metadata: the authority inspected, the kind of visit, the dates on site, the
//! publication date and the graded judgements, read from the report text.
//!
//! Everything is read from the text, never from the file name. The title, address and
//! date lines live in the first few kilobytes, so only a bounded head of the text is
//! scanned for them; the grade tables of the 2009-2013 reports ("Record of main
//! findings") are read from a bounded window after their heading, and the safeguarding
//! board judgement of the single inspection framework from a bounded prefix of the text.
//! All scans are linear in the text looked at, so huge or odd inputs cannot stall it.
//! Word boundaries in the patterns are ASCII (`(?-u:\b)`): with Unicode boundaries the
//! regex engine leaves its fast DFA for any text holding a non-ASCII character.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use regex::Regex;

use crate::bytes::{equal, in_range, word, TOP};
use crate::model::{Authority, CleanText, Grade, Metadata, VisitType};
use crate::reference::AuthorityTable;

/// Lazy-DFA cache of the patterns with long bounded repeats.
const WIDE_DFA_BYTES: usize = 8 << 20;

/// A pattern with a long bounded repeat (`.{2,120}?`): its lazy DFA has many states, so it
/// gets a larger cache than the default, which it would otherwise clear and rebuild often.
fn wide(re: &str) -> Regex {
    regex::RegexBuilder::new(re)
        .dfa_size_limit(WIDE_DFA_BYTES)
        .build()
        .expect("valid regex")
}

/// Bytes of the source read for titles, addresses and dates.
const HEAD_BYTES: usize = 16 * 1024;
/// Bytes of the source searched for judgement sentences outside the head.
const BODY_BYTES: usize = 400 * 1024;
/// Bytes read after a "Record of main findings" heading.
const GRID_BYTES: usize = 8 * 1024;

const MONTHS: &str =
    "January|February|March|April|May|June|July|August|September|October|November|December";

/// A full date: "14 March 2018", "1st October 2020".
static FULL_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(?-u:\b)(\d{{1,2}})(?:st|nd|rd|th)? ({MONTHS}) (\d{{4}})(?-u:\b)"
    ))
    .expect("valid regex")
});

/// Labels that introduce the visit or inspection dates.
static VISIT_DATES_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)(?:inspection dates?|dates? of (?:the )?inspection|visit dates?|dates? of (?:the )?visit|inspection took place|inspection was carried out)\s*:?\s*(?:on |from |between )?",
    )
    .expect("valid regex")
});

/// The letter sentence that names the visit days: "... focused visit to Wirral local
/// authority children's services on 14 and 15 March 2018". Its opening, found first; the days
/// follow the first [`LETTER_VISIT_DAYS`] that starts within [`LETTER_VISIT_SPAN`] bytes of
/// it, on the same line. (One pattern with `.{0,160}?` between the two would say the same, but
/// its automaton has a state for every count of bytes up to 160 and is slow to build.)
static LETTER_VISIT: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
    regex::bytes::Regex::new(r"(?i)(?-u:\b)(?:focused|monitoring) visit (?:to|of) ")
        .expect("valid regex")
});
static LETTER_VISIT_DAYS: LazyLock<regex::bytes::Regex> =
    LazyLock::new(|| regex::bytes::Regex::new(r"(?i) (?:on|from|between) ").expect("valid regex"));
const LETTER_VISIT_SPAN: usize = 160;

/// A labelled publication date.
static PUBLISHED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(?-u:\b)(?:report published|published|publication date|date of publication)\s*:\s*[^0-9]{{0,24}}?(\d{{1,2}})(?:st|nd|rd|th)? ({MONTHS}) (\d{{4}})(?-u:\b)"
    ))
    .expect("valid regex")
});

/// A labelled publication date written as digits: "Report published: 25/11/2016".
static PUBLISHED_NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)(?:report published|published|publication date|date of publication)\s*:\s*(\d{1,2})/(\d{1,2})/(\d{4})(?-u:\b)",
    )
    .expect("valid regex")
});

static DEAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u:\b)Dear(?-u:\b)").expect("valid regex"));

/// A UK postcode, used to skip authority names that are part of a postal address.
static POSTCODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^[^A-Za-z0-9]{0,3}(?:[A-Za-z][A-Za-z ]{0,20} )?[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}(?-u:\b)",
    )
    .expect("valid regex")
});

/// A title pattern whose first group names the authority, with the visit type it implies.
///
/// `needle` is a phrase every match contains, as a case-insensitive literal, at most `lead`
/// bytes after the start of the match: it is looked for first, and the pattern is only
/// searched from `lead` bytes before it, because some title patterns open with bounded
/// wildcards that are slow to scan for where they cannot match. `lead` counts the bytes a
/// wildcard may take before the needle, and four for each character of literal text before
/// it, the most a character matched case-insensitively (`ſ` for `s`) or as `\d` can take.
struct Title {
    needle: Regex,
    lead: usize,
    pattern: regex::bytes::Regex,
    visit_type: Option<VisitType>,
}

impl Title {
    /// The first four matches in `zone`. No match starts more than `lead` bytes before the
    /// first needle, so the search starts there (the bytes before still count for `^` and
    /// word boundaries) and finds what a search from the start would.
    fn captures<'z>(&'z self, zone: &'z str) -> impl Iterator<Item = regex::bytes::Captures<'z>> {
        let mut from = self
            .needle
            .find(zone)
            .map(|n| n.start().saturating_sub(self.lead));
        let pattern = &self.pattern;
        std::iter::from_fn(move || {
            let caps = pattern.captures_at(zone.as_bytes(), from?)?;
            from = caps.get(0).map(|m| m.end());
            Some(caps)
        })
        .take(4)
    }
}

/// A pattern as a byte regex whose wildcards (`.`) match single bytes: the lazy DFA for
/// `.{2,120}?` over Unicode characters is several times larger and slower to build. In the
/// title patterns every wildcard run is bounded by ASCII literals, so groups and matches still
/// start and end on character boundaries; the bounds count bytes rather than characters.
fn byte_pattern(re: &str) -> regex::bytes::Regex {
    regex::bytes::RegexBuilder::new(&re.replace(".{", "(?-u:.){"))
        .dfa_size_limit(WIDE_DFA_BYTES)
        .build()
        .expect("valid regex")
}

static TITLES: LazyLock<Vec<Title>> = LazyLock::new(|| {
    let t = |needle: &str, lead: usize, re: &str, v: Option<VisitType>| Title {
        needle: Regex::new(&format!("(?i){}", regex::escape(needle))).expect("valid regex"),
        lead,
        pattern: byte_pattern(re),
        visit_type: v,
    };
    vec![
        t(
            "monitoring visit ",
            0,
            r"(?i)(?-u:\b)monitoring visit (?:to|of) (.{2,120}?)(?:'s)? (?:local authority )?children'?s (?:social care )?services",
            Some(VisitType::MonitoringVisit),
        ),
        t(
            "focused visit ",
            0,
            r"(?i)(?-u:\b)focused visit (?:to|of) (.{2,120}?)(?:'s)? (?:local authority )?children'?s (?:social care )?services",
            Some(VisitType::FocusedVisit),
        ),
        t(
            "looked after children",
            4 * "inspection of safeguarding and ".len(),
            r"(?i)(?-u:\b)inspection of (?:safeguarding and )?looked after children(?:'s)? services (.{2,120}?) (?:inspection dates?|dates? of inspection|reporting inspector|age group)",
            Some(VisitType::SafeguardingLacInspection),
        ),
        t(
            "inspection of services for children in need of help and protection",
            4 * "0  re-".len() + 120,
            r"(?i)(?:^|\d )(.{2,120}?) (?:re-?)?inspection of services for children in need of help and protection",
            Some(VisitType::SifInspection),
        ),
        t(
            "inspection of ",
            0,
            r"(?i)(?-u:\b)inspection of (.{2,120}?)(?:'s)? (?:local authority )?children'?s (?:social care )?services",
            Some(VisitType::IlacsInspection),
        ),
        t(
            " inspection of children",
            4 * "0 ".len() + 80,
            r"(?i)(?:^|\d )(.{2,80}?) inspection of children'?s social care services",
            Some(VisitType::IlacsInspection),
        ),
        t(
            " inspection date",
            4 * "inspection of ".len() + 100,
            r"(?i)(?-u:\b)inspection of (.{2,100}?) inspection dates?(?-u:\b)",
            Some(VisitType::IlacsInspection),
        ),
        t(
            "joint targeted area inspection ",
            0,
            r"(?i)(?-u:\b)joint targeted area inspection (?:of the multi-agency response to .{0,120}? )?(?:in|of) (.{2,80}?)(?: between| from| on|\.|,| \d)",
            Some(VisitType::Jtai),
        ),
    ]
});

/// Phrases that name the kind of visit, in the order they are tried when no title matched.
static VISIT_PHRASES: LazyLock<Vec<(Regex, VisitType)>> = LazyLock::new(|| {
    let t = |re: &str, v: VisitType| (Regex::new(re).expect("valid regex"), v);
    vec![
        t(
            r"(?i)(?-u:\b)monitoring visit(?-u:\b)",
            VisitType::MonitoringVisit,
        ),
        t(
            r"(?i)(?-u:\b)focused visit(?-u:\b)",
            VisitType::FocusedVisit,
        ),
        t(
            r"(?i)(?-u:\b)joint targeted area inspection(?-u:\b)",
            VisitType::Jtai,
        ),
        t(
            r"(?i)(?-u:\b)inspection of (?:safeguarding and )?looked after children(?:'s)? services|(?-u:\b)inspection of safeguarding services(?-u:\b)",
            VisitType::SafeguardingLacInspection,
        ),
        t(
            r"(?i)(?:(?-u:\b)|re-?)inspection of services for children in need of help and protection",
            VisitType::SifInspection,
        ),
        t(
            r"(?i)(?-u:\b)review of the effectiveness of the local safeguarding children board",
            VisitType::SifInspection,
        ),
        t(
            r"(?i)(?-u:\b)inspection of children'?s social care services|(?-u:\b)local authority children'?s services(?-u:\b)",
            VisitType::IlacsInspection,
        ),
    ]
});

/// A grade as written in a table cell: capitalised, so prose after the table is not read.
static GRADE_CELL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u:\b)(Outstanding|Good|Requires? [Ii]mprovement(?: to be [Gg]ood)?|Inadequate|Adequate|Not [Jj]udged)(?-u:\b)",
    )
    .expect("valid regex")
});

/// A grade in any case, for the headline tables that write some grades in lower case.
static GRADE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)(Outstanding|Good|Requires? improvement(?: to be good)?|Inadequate|Adequate|Not judged)(?-u:\b)",
    )
    .expect("valid regex")
});

/// The header of the grade table of inspections since 2018.
static ILACS_TABLE: LazyLock<Regex> =
    LazyLock::new(|| wide(r"(?-u:\b)Judgements?(?-u:\b).{0,200}?(?-u:\b)Grades?(?-u:\b)"));

/// Row labels of the grade table of inspections since 2018.
static ILACS_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(impact of leaders)|(children who need help and protection)|(children in care and care leavers)|(children in care)|((?:children )?care leavers)|(overall effectiveness)",
    )
    .expect("valid regex")
});
const ILACS_NAMES: [&str; 6] = [
    "impact_of_leaders",
    "help_and_protection",
    "children_in_care_and_care_leavers",
    "children_in_care",
    "care_leavers",
    "overall_effectiveness",
];

/// Row labels of the single inspection framework headline table.
static SIF_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(children who need help and protection)|(children looked (?:after and achieving )?permanence|children looked after and achieving)|(adoption performance)|((?:experiences and progress of )?care leavers)|(leadership,? management and governance)",
    )
    .expect("valid regex")
});
const SIF_NAMES: [&str; 5] = [
    "children_who_need_help_and_protection",
    "children_looked_after_and_achieving_permanence",
    "adoption_performance",
    "experiences_and_progress_of_care_leavers",
    "leadership_management_and_governance",
];

static SIF_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:(?-u:\b)|re-?)inspection of services for children in need of help and protection",
    )
    .expect("valid regex")
});

/// The headline overall judgement of the single inspection framework.
static SIF_OVERALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)(?:the overall judgement is(?: that children'?s services)?|children'?s services in .{1,80}?) (?:are |is )?(outstanding|good|inadequate|requires? improvement)(?-u:\b)",
    )
    .expect("valid regex")
});

/// The safeguarding board judgement of the single inspection framework.
static LSCB: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u:\b)The (?:effectiveness of the )?Local Safeguarding Children Board(?: \(LSCB\))?(?: in [A-Z][A-Za-z ,.'-]{1,60}?)? (?:is (?:judged to be )?)?((?i:outstanding|good|inadequate|requires? improvement))(?-u:\b)",
    )
    .expect("valid regex")
});

static RECORD_OF_MAIN_FINDINGS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)record of main findings").expect("valid regex"));

/// A grid line ending in a grade: "Being healthy<TAB>Good", "Capacity to improve Adequate".
static GRID_ROW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(.*?)[\s:]*(?-u:\b)(outstanding|good|adequate|inadequate)(?:\s*\(?grade\s*\d\)?)?\s*$",
    )
    .expect("valid regex")
});

/// Reads the metadata of one report.
///
/// `source` is the whole decoded text; `clean` its normalised blocks, used when the
/// source holds no usable text.
pub fn extract(source: &str, clean: &CleanText, authorities: &AuthorityTable) -> Metadata {
    let head_src = prefix(source, HEAD_BYTES);
    let mut head = collapse(head_src);
    if head.trim().is_empty() {
        head = collapse(prefix(&clean.joined(), HEAD_BYTES));
    }

    let (authority, title_type) = find_authority(&head, authorities);
    let mut visit_type = title_type.or_else(|| find_visit_type(&head));

    let mut published = find_published(&head);
    let (visit_start, visit_end) = find_visit_dates(&head, published);
    // A letter dated before the visit it reports carries last year's number by mistake.
    if let (Some(p), Some(e)) = (published, visit_end) {
        if p < e {
            if let Some(next) = p.with_year(p.year() + 1) {
                if next >= e && (next - e).num_days() <= 120 {
                    published = Some(next);
                }
            }
        }
    }

    let mut judgements = ilacs_judgements(&head);
    if !judgements.is_empty() {
        if visit_type.is_none()
            || judgements.iter().any(|(n, _)| n == "impact_of_leaders")
                && !matches!(
                    visit_type,
                    Some(VisitType::MonitoringVisit | VisitType::FocusedVisit)
                )
        {
            visit_type = Some(VisitType::IlacsInspection);
        }
    } else if visit_type == Some(VisitType::SifInspection)
        || SIF_START.is_match(prefix(&head, 4096))
    {
        let body = collapse(prefix(source, BODY_BYTES));
        judgements = sif_judgements(&head, &body);
        if visit_type.is_none() {
            visit_type = Some(VisitType::SifInspection);
        }
    } else if !matches!(
        visit_type,
        Some(VisitType::MonitoringVisit | VisitType::FocusedVisit)
    ) {
        judgements = grid_judgements(prefix(source, BODY_BYTES * 4));
    }
    if matches!(
        visit_type,
        Some(VisitType::MonitoringVisit | VisitType::FocusedVisit)
    ) {
        judgements.clear();
    }

    let mut missing = Vec::new();
    if authority.is_none() {
        missing.push("authority".to_string());
    }
    if visit_type.is_none() {
        missing.push("visit type".to_string());
    }
    if visit_start.is_none() {
        missing.push("visit dates".to_string());
    }
    if published.is_none() {
        missing.push("published date".to_string());
    }
    Metadata {
        authority,
        visit_type,
        visit_start,
        visit_end,
        published,
        judgements,
        missing,
    }
}

/// The longest prefix of `s` of at most `n` bytes that ends on a character boundary.
fn prefix(s: &str, n: usize) -> &str {
    if s.len() <= n {
        return s;
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Collapses white space to single spaces, makes typography plain as normalisation does
/// ([`crate::normalise::plain_form`]) and makes Markdown emphasis and heading marks spaces.
fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    let bytes = s.as_bytes();
    let mut i = 0;
    let plain = |b: u8| b.is_ascii_graphic() && !matches!(b, b'`' | b'*' | b'#');
    while i < bytes.len() {
        // Runs of printable ASCII that needs no change are copied in one go, with the single
        // spaces between their words (a space after a kept byte and before another).
        let run = i;
        // Eight bytes at a time while nine remain (the ninth tells whether the eighth, if a
        // space, is followed by a kept byte); then byte by byte, where the same test ends it.
        while let Some(chunk) = bytes.get(i..i + 9) {
            let x = word(&chunk[..8]);
            let kept = plain_bytes(x);
            let next_kept = kept >> 8 | u64::from(plain(chunk[8])) << 63;
            let mut spaces = equal(x, b' ');
            if i == run {
                // A run does not open with a space.
                spaces &= !0x80;
            }
            let stop = !(kept | spaces & next_kept) & TOP;
            if stop != 0 {
                i += (stop.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        while i < bytes.len() {
            if plain(bytes[i])
                || bytes[i] == b' ' && i > run && bytes.get(i + 1).is_some_and(|&b| plain(b))
            {
                i += 1;
            } else {
                break;
            }
        }
        if i > run {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push_str(&s[run..i]);
        }
        // White space, the commonest break in a run, without decoding.
        if matches!(bytes.get(i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            space = true;
            i += 1;
            continue;
        }
        let Some(c) = s[i..].chars().next() else {
            break;
        };
        i += c.len_utf8();
        let mut one = [0u8; 4];
        let text = match unify(c) {
            Unified::Space => {
                space = true;
                continue;
            }
            Unified::Text(t) => t,
            Unified::Same => &*c.encode_utf8(&mut one),
        };
        if text.is_empty() {
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push_str(text);
    }
    out
}

/// The bytes of `x` that [`collapse`] copies as they are: printable ASCII other than `` ` ``,
/// `*` and `#`.
fn plain_bytes(x: u64) -> u64 {
    in_range(x, b'!', b'~') & !(equal(x, b'`') | equal(x, b'*') | equal(x, b'#'))
}

/// What [`collapse`] makes of one character.
enum Unified {
    /// White space, a control character, or a Markdown emphasis or heading mark.
    Space,
    /// Typography made plain ([`crate::normalise::plain_form`]); empty for invisible marks.
    Text(&'static str),
    /// Any other character, kept.
    Same,
}

/// One character as [`collapse`] reads it.
fn unify(c: char) -> Unified {
    if matches!(c, '*' | '#') || c.is_whitespace() || c.is_control() {
        return Unified::Space;
    }
    match crate::normalise::plain_form(c) {
        Some(t) => Unified::Text(t),
        None => Unified::Same,
    }
}

/// More bytes than any match of a title pattern spans past the start of its name (the name
/// is at most 120 bytes, the words after it fewer than 100).
const TITLE_SPAN: usize = 400;

/// The authority and, when a title names it, the visit type the title implies.
fn find_authority(head: &str, table: &AuthorityTable) -> (Option<Authority>, Option<VisitType>) {
    let title_zone = prefix(head, 6 * 1024);
    let mut best: Option<(usize, Authority, Option<VisitType>)> = None;
    for title in TITLES.iter() {
        // Once a title has been read, only a match whose name starts before it can win: no
        // title pattern spans more than [`TITLE_SPAN`] bytes, so the search stops there.
        let zone = match &best {
            Some((p, _, _)) => prefix(title_zone, p + TITLE_SPAN),
            None => title_zone,
        };
        let vt = &title.visit_type;
        for caps in title.captures(zone) {
            let Some(g) = caps.get(1) else { continue };
            if best.as_ref().is_some_and(|(p, _, _)| *p <= g.start()) {
                break;
            }
            let Some(cand) = title_zone.get(g.range()) else {
                continue;
            };
            if let Some(a) = resolve_candidate(cand, table) {
                best = Some((g.start(), a.clone(), *vt));
                break;
            }
        }
    }
    if let Some((_, a, vt)) = best {
        return (Some(a), vt);
    }
    (most_named(prefix(head, 12 * 1024), table), None)
}

/// Resolves a captured title fragment: the whole of it, else the first name inside it.
fn resolve_candidate<'a>(cand: &str, table: &'a AuthorityTable) -> Option<&'a Authority> {
    let cand = cand.trim().trim_end_matches([',', '.', ':']);
    let lower = cand.to_lowercase();
    if cand.len() > 70
        || [
            "inspection",
            " visit",
            "safeguarding",
            "looked after",
            "response",
            ". ",
        ]
        .iter()
        .any(|w| lower.contains(w))
    {
        return None;
    }
    table
        .resolve(cand)
        .or_else(|| table.find_in(cand).into_iter().next().map(|(_, a)| a))
}

/// The authority named most often in `text`, ignoring names inside postal addresses;
/// ties go to the earliest.
fn most_named(text: &str, table: &AuthorityTable) -> Option<Authority> {
    let mut counts: Vec<(&Authority, usize, usize)> = Vec::new();
    for (pos, a) in table.find_in(text) {
        let name_end = text[pos..]
            .char_indices()
            .nth(a.name.chars().count())
            .map_or(text.len(), |(i, _)| pos + i);
        if POSTCODE.is_match(prefix(&text[name_end..], 40)) {
            continue;
        }
        match counts.iter_mut().find(|(b, _, _)| b.la_code == a.la_code) {
            Some(c) => c.1 += 1,
            None => counts.push((a, 1, pos)),
        }
    }
    counts
        .into_iter()
        .max_by(|x, y| x.1.cmp(&y.1).then(y.2.cmp(&x.2)))
        .map(|(a, _, _)| a.clone())
}

/// The visit type named earliest in the head.
fn find_visit_type(head: &str) -> Option<VisitType> {
    let zone = prefix(head, 6 * 1024);
    VISIT_PHRASES
        .iter()
        .filter_map(|(re, vt)| re.find(zone).map(|m| (m.start(), *vt)))
        .min_by_key(|(p, _)| *p)
        .map(|(_, vt)| vt)
}

fn date_from(d: &str, m: &str, y: &str) -> Option<NaiveDate> {
    let day: u32 = d.parse().ok()?;
    let year: i32 = y.parse().ok()?;
    NaiveDate::from_ymd_opt(year, month_number(m)?, day)
}

fn month_number(m: &str) -> Option<u32> {
    if m.len() < 3 || m.len() > 9 {
        return None;
    }
    let m = m.to_ascii_lowercase();
    MONTHS
        .split('|')
        .position(|full| {
            let full = full.to_ascii_lowercase();
            full == m || (m.len() <= 4 && full.starts_with(&m))
        })
        .map(|i| i as u32 + 1)
}

/// The report's publication date, or the date of a letter.
fn find_published(head: &str) -> Option<NaiveDate> {
    let zone = prefix(head, 4096);
    if let Some(c) = PUBLISHED.captures(zone) {
        if let Some(d) = date_from(&c[1], &c[2], &c[3]) {
            return Some(d);
        }
    }
    if let Some(c) = PUBLISHED_NUMERIC.captures(zone) {
        let n = |i: usize| c[i].parse::<u32>().ok();
        if let (Some(d), Some(m), Some(y)) = (n(1), n(2), n(3)) {
            if let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d) {
                return Some(date);
            }
        }
    }
    // A letter: the last full date before the salutation.
    let dear = DEAR.find(zone)?;
    FULL_DATE
        .captures_iter(&zone[..dear.start()])
        .filter_map(|c| date_from(&c[1], &c[2], &c[3]))
        .last()
}

/// First and last day on site.
fn find_visit_dates(
    head: &str,
    published: Option<NaiveDate>,
) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let zone = prefix(head, 8 * 1024);
    let starts = VISIT_DATES_LABEL
        .find_iter(zone)
        .take(4)
        .map(|m| m.end())
        .chain(letter_visit_days(zone.as_bytes()).take(4));
    let mut found: Vec<(usize, NaiveDate, NaiveDate)> = starts
        .filter_map(|p| parse_range(prefix(&zone[p..], 160), published).map(|(s, e)| (p, s, e)))
        .collect();
    found.sort_by_key(|(p, _, _)| *p);
    match found.first() {
        Some(&(_, s, e)) => (Some(s), Some(e)),
        None => (None, None),
    }
}

/// Where the days named by each letter visit sentence start ([`LETTER_VISIT`]), in order; a
/// sentence is read after the end of the one before.
fn letter_visit_days(zone: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || loop {
        let open = LETTER_VISIT.find_at(zone, at)?;
        let from = open.end();
        let line_end = memchr::memchr(b'\n', &zone[from..]).map_or(zone.len(), |i| from + i);
        let last_start = line_end.min(from + LETTER_VISIT_SPAN);
        let window = &zone[from..zone.len().min(last_start + " between ".len())];
        match LETTER_VISIT_DAYS.find(window) {
            Some(m) if from + m.start() <= last_start => {
                at = from + m.end();
                return Some(at);
            }
            _ => at = from,
        }
    })
}

#[derive(Debug, Clone, Copy, Default)]
struct DayItem {
    day: u32,
    month: Option<u32>,
    year: Option<i32>,
}

/// Parses a run of dates such as "14 and 15 March 2018", "24 January-4 February 2011",
/// "29 and 30 September, and 1 October 2020" or "18 March 2014 - 09 April 2014" into
/// its first and last day. A missing year is taken from `fallback` (the letter date).
fn parse_range(s: &str, fallback: Option<NaiveDate>) -> Option<(NaiveDate, NaiveDate)> {
    let spaced: String = s
        .chars()
        .flat_map(|c| match c {
            '-' | ',' => vec![' ', c, ' '],
            c => vec![c],
        })
        .collect();
    let mut items: Vec<DayItem> = Vec::new();
    let mut need_connector = false;
    for raw in spaced.split_whitespace().take(24) {
        let ends_sentence = raw.ends_with('.') && raw.len() > 1;
        let tok = raw.trim_end_matches(['.', ';', ')']);
        let lower = tok.to_ascii_lowercase();
        let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let is_ordinal = !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit())
            && matches!(&lower[digits.len()..], "" | "st" | "nd" | "rd" | "th");
        if let Some(it) = numeric_date(tok) {
            if need_connector {
                break;
            }
            items.push(it);
            need_connector = true;
        } else if is_ordinal && digits.len() <= 2 {
            let day: u32 = digits.parse().ok()?;
            if need_connector || !(1..=31).contains(&day) {
                break;
            }
            items.push(DayItem {
                day,
                ..DayItem::default()
            });
            need_connector = true;
        } else if is_ordinal && digits.len() == 4 && lower.len() == 4 {
            let y: i32 = digits.parse().ok()?;
            match items.last_mut() {
                Some(it) if it.month.is_some() && it.year.is_none() => it.year = Some(y),
                _ => break,
            }
            need_connector = true;
        } else if let Some(m) = month_number(&lower) {
            match items.last_mut() {
                Some(it) if it.month.is_none() => it.month = Some(m),
                _ => break,
            }
            need_connector = true;
        } else if matches!(
            lower.as_str(),
            "and" | "to" | "until" | "till" | "-" | "," | "&" | "from" | "between" | "the" | "of"
        ) || lower.ends_with("day")
        {
            need_connector = false;
        } else {
            break;
        }
        if ends_sentence {
            break;
        }
    }
    // Fill months and years backwards from later items.
    let (mut month, mut year) = (None, None);
    for it in items.iter_mut().rev() {
        if it.month.is_some() {
            month = it.month;
        } else {
            it.month = month;
        }
        if it.year.is_some() {
            year = it.year;
        } else {
            it.year = year;
        }
    }
    while items.last().is_some_and(|it| it.month.is_none()) {
        items.pop();
    }
    let first = *items.first()?;
    let last = *items.last()?;
    let mk = |it: DayItem, y: i32| NaiveDate::from_ymd_opt(y, it.month?, it.day);
    let end_year = match last.year {
        Some(y) => y,
        None => {
            let f = fallback?;
            let y = f.year();
            if last.month? > f.month() {
                y - 1
            } else {
                y
            }
        }
    };
    let end = mk(last, end_year)?;
    let mut start = mk(first, first.year.unwrap_or(end_year))?;
    if start > end {
        start = mk(first, start.year() - 1)?;
    }
    if (end - start).num_days() > MAX_SPAN_DAYS {
        // A mistyped start year ("24 October 2022 to 25 October 2023"): take the end's year.
        start = mk(first, end.year())?;
        if start > end || (end - start).num_days() > MAX_SPAN_DAYS {
            return None;
        }
    }
    Some((start, end))
}

/// The longest time on site a date range may span (split inspections run over months).
const MAX_SPAN_DAYS: i64 = 150;

/// A date written as digits, day first: "12/09/2016".
fn numeric_date(tok: &str) -> Option<DayItem> {
    let mut parts = tok.split('/');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || d.len() > 2 || m.len() > 2 || y.len() != 4 {
        return None;
    }
    let (day, month, year) = (d.parse().ok()?, m.parse().ok()?, y.parse().ok()?);
    NaiveDate::from_ymd_opt(year, month, day)?;
    Some(DayItem {
        day,
        month: Some(month),
        year: Some(year),
    })
}

fn grade_of(s: &str) -> Option<Grade> {
    let l = s.to_ascii_lowercase();
    if l.starts_with("outstanding") {
        Some(Grade::Outstanding)
    } else if l.starts_with("good") {
        Some(Grade::Good)
    } else if l.starts_with("require") {
        Some(Grade::RequiresImprovement)
    } else if l.starts_with("inadequate") {
        Some(Grade::Inadequate)
    } else if l.starts_with("adequate") {
        Some(Grade::Adequate)
    } else {
        None
    }
}

/// Pairs table row labels with the grades that follow them, in order. Handles both
/// layouts a PDF extraction gives: label and grade interleaved, or a run of labels
/// followed by a run of grades.
///
/// The table ends at a repeated label, or at a label more than `max_gap` bytes after the
/// previous event once every label has its grade. A "Not judged" cell keeps its row out.
fn pair_table(
    window: &str,
    labels: &Regex,
    names: &[&str],
    grades_re: &Regex,
    max_gap: usize,
) -> Vec<(String, Grade)> {
    #[derive(Clone, Copy)]
    enum Ev {
        Label(usize),
        Grade(Option<Grade>),
    }
    let mut events: Vec<(usize, usize, Ev)> = Vec::new();
    for c in labels.captures_iter(window) {
        if let Some((i, m)) = c
            .iter()
            .skip(1)
            .enumerate()
            .find_map(|(i, m)| m.map(|m| (i, m)))
        {
            events.push((m.start(), m.end(), Ev::Label(i)));
        }
    }
    for m in grades_re.find_iter(window) {
        events.push((m.start(), m.end(), Ev::Grade(grade_of(m.as_str()))));
    }
    events.sort_by_key(|e| e.0);
    let mut seen: Vec<usize> = Vec::new();
    let mut grades: Vec<Option<Grade>> = Vec::new();
    let mut last_end = 0;
    for (start, end, ev) in events {
        match ev {
            Ev::Label(i) => {
                if seen.contains(&i) {
                    break;
                }
                if !seen.is_empty() && grades.len() >= seen.len() && start > last_end + max_gap {
                    break;
                }
                seen.push(i);
            }
            Ev::Grade(g) => {
                if seen.is_empty() || grades.len() >= seen.len() {
                    continue;
                }
                grades.push(g);
            }
        }
        last_end = end;
    }
    seen.iter()
        .zip(grades)
        .filter_map(|(&i, g)| g.map(|g| (names[i].to_string(), g)))
        .collect()
}

/// The grade table of inspections since 2018 ("Judgement Grade").
fn ilacs_judgements(head: &str) -> Vec<(String, Grade)> {
    let Some(m) = ILACS_TABLE.find(prefix(head, 8 * 1024)) else {
        return Vec::new();
    };
    let window = prefix(&head[m.start()..], 1800);
    pair_table(window, &ILACS_LABEL, &ILACS_NAMES, &GRADE_CELL, 60)
}

/// The headline judgements of a single inspection framework report.
fn sif_judgements(head: &str, body: &str) -> Vec<(String, Grade)> {
    let mut out = Vec::new();
    let zone = prefix(head, 6 * 1024);
    let start = SIF_START.find(zone).map_or(0, |m| m.end());
    let rest = &zone[start..];
    if let Some(c) = SIF_OVERALL.captures(prefix(rest, 2048)) {
        if let Some(g) = grade_of(&c[1]) {
            out.push(("overall_effectiveness".to_string(), g));
        }
    }
    // The table starts at its first numbered row.
    let table_at = rest
        .find("1. Children who need")
        .or_else(|| rest.find("Children who need help and protection"))
        .unwrap_or(0);
    let window = prefix(&rest[table_at..], 2500);
    out.extend(pair_table(window, &SIF_LABEL, &SIF_NAMES, &GRADE, 900));
    if let Some(c) = LSCB.captures(body) {
        if let Some(g) = grade_of(&c[1]) {
            out.push(("lscb".to_string(), g));
        }
    }
    out
}

/// The "Record of main findings" grid of the 2009-2013 reports, as
/// `safeguarding.x` / `lac.x` judgements.
fn grid_judgements(source: &str) -> Vec<(String, Grade)> {
    let Some(m) = RECORD_OF_MAIN_FINDINGS.find_iter(source).last() else {
        return Vec::new();
    };
    let after = &source[m.end()..];
    let window = prefix(after, GRID_BYTES);
    let mut section = "lac";
    if source[..m.start()].contains("afeguarding services") {
        section = "safeguarding";
    }
    // Rows as (section, label) and grades, kept apart so a run of labels followed by a
    // run of grades pairs up in order.
    let mut labels: Vec<(String, String)> = Vec::new();
    let mut grades: Vec<Grade> = Vec::new();
    let mut pending = String::new();
    let mut lines = 0;
    for raw in window.lines() {
        let line = collapse(raw);
        let line = line.trim_start_matches(['-', ' ']).trim();
        if line.is_empty() || line.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        lines += 1;
        if lines > 80 || line.len() > 140 {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if lower == "safeguarding services" {
            section = "safeguarding";
            pending.clear();
            continue;
        }
        if lower.starts_with("services for looked after children") {
            section = "lac";
            pending.clear();
            continue;
        }
        if let Some(c) = GRID_ROW.captures(line) {
            let label = c[1].trim();
            let grade = grade_of(&c[2]);
            let full = join_label(&pending, label);
            pending.clear();
            if !full.is_empty() {
                labels.push((section.to_string(), full));
            }
            if let Some(g) = grade {
                grades.push(g);
            }
            continue;
        }
        if line.ends_with('?') || lower.starts_with("safeguarding outcomes") {
            pending.clear();
            continue;
        }
        // A label without a grade: either wrapped onto the next line or a run of labels.
        if !pending.is_empty() && line.starts_with(|c: char| c.is_lowercase()) {
            pending = join_label(&pending, line);
        } else {
            if !pending.is_empty() {
                labels.push((section.to_string(), std::mem::take(&mut pending)));
            }
            pending = line.to_string();
        }
    }
    if !pending.is_empty() && grades.len() > labels.len() {
        labels.push((section.to_string(), pending));
    }
    labels
        .into_iter()
        .zip(grades)
        .map(|((sec, label), g)| (format!("{sec}.{}", snake(&label)), g))
        .collect()
}

fn join_label(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a} {b}"),
    }
}

/// "Making a positive contribution, including user engagement" ->
/// "making_a_positive_contribution_including_user_engagement".
fn snake(s: &str) -> String {
    let mut out = String::new();
    for w in s
        .replace('&', " and ")
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push('_');
        }
        out.extend(
            w.chars()
                .filter(|c| *c != '\'')
                .flat_map(char::to_lowercase),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `collapse` one character at a time, as specified (no copying of runs).
    fn collapse_reference(s: &str) -> String {
        let mut out = String::new();
        let mut space = false;
        for c in s.chars() {
            let mut one = [0u8; 4];
            let text = match unify(c) {
                Unified::Space => {
                    space = true;
                    continue;
                }
                Unified::Text("") => continue,
                Unified::Text(t) => t,
                Unified::Same => c.encode_utf8(&mut one),
            };
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push_str(text);
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn collapse_copies_runs_as_the_reference_does(
            s in "([a-z.,# *`\t\n\r\x0b]|[\u{2018}\u{2019}\u{201C}\u{2013}\u{00A0}\u{3000}\u{85}\u{00AD}\u{FB01}\u{00AB}]|\\PC){0,60}"
        ) {
            proptest::prop_assert_eq!(collapse(&s), collapse_reference(&s));
        }

        /// Long runs of kept bytes and single spaces, read eight bytes at a time.
        #[test]
        fn collapse_copies_long_runs_as_the_reference_does(
            s in "([a-zA-Z0-9.,()]{1,12}|[ ]{1,2}|[#*`\t\n~]|\u{2019}|\u{E9}){0,40}"
        ) {
            proptest::prop_assert_eq!(collapse(&s), collapse_reference(&s));
        }

        #[test]
        fn plain_bytes_eight_at_a_time_as_one_at_a_time(bytes in proptest::array::uniform8(0u8..=255)) {
            let x = u64::from_le_bytes(bytes);
            for (k, &b) in bytes.iter().enumerate() {
                let bit = |m: u64| m >> (8 * k + 7) & 1 == 1;
                let plain = b.is_ascii_graphic() && !matches!(b, b'`' | b'*' | b'#');
                proptest::prop_assert_eq!(bit(plain_bytes(x)), plain, "byte {:#04x}", b);
            }
        }

        /// The two-step search finds what the single pattern it stands for finds.
        #[test]
        fn letter_visit_days_as_one_pattern(
            parts in proptest::collection::vec(
                "focused visit to |Monitoring visit of |FOCUSED VISIT OF | on | from | between |ON |[a-z]{1,90}|[a-z ]{0,12}|\n|\u{00E9}|[0-9 ]{1,3}",
                0..40,
            )
        ) {
            let zone = parts.concat();
            let whole = byte_pattern(
                r"(?i)(?-u:\b)(?:focused|monitoring) visit (?:to|of) .{0,160}? (?:on|from|between) ",
            );
            let want: Vec<usize> = whole.find_iter(zone.as_bytes()).map(|m| m.end()).collect();
            let got: Vec<usize> = letter_visit_days(zone.as_bytes()).collect();
            proptest::prop_assert_eq!(got, want);
        }

        /// Searching a title pattern from `lead` bytes before its needle finds what
        /// searching from the start finds.
        #[test]
        fn title_search_from_the_needle_as_from_the_start(
            which in 0usize..8,
            parts in proptest::collection::vec(
                " inspection of | Inspection of services for children in need of help and protection| inspection of children's social care services| inspection dates| looked after children services | focused visit to | monitoring visit of | joint targeted area inspection | children's services| local authority |Wirral|re-|[0-9] |[a-z]{1,60}|[a-z ]{0,10}|\u{017F}|\n",
                0..30,
            )
        ) {
            let zone = parts.concat();
            let title = &TITLES[which];
            let spans = |caps: regex::bytes::Captures| {
                (caps.get(0).map(|m| m.range()), caps.get(1).map(|m| m.range()))
            };
            let want: Vec<_> = title.pattern.captures_iter(zone.as_bytes()).take(4).map(spans).collect();
            let got: Vec<_> = title.captures(&zone).map(spans).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn letter_visit_days_within_their_span() {
        for gap in [0, 1, 159, 160, 161, 200] {
            let zone = format!("focused visit to {} on 1 May 2019", "a".repeat(gap));
            let at = zone.len() - "1 May 2019".len();
            let want = (gap <= 160).then_some(at);
            assert_eq!(letter_visit_days(zone.as_bytes()).next(), want, "gap {gap}");
        }
        let broken = "focused visit to Wirral\non 1 May 2019";
        assert_eq!(letter_visit_days(broken.as_bytes()).next(), None);
    }

    #[test]
    fn collapse_reads_typography_as_normalisation_does() {
        assert_eq!(
            collapse("**Inspection of\u{00A0}Wirral\u{00AD}\u{FB01}le** \u{00AB}local\u{00BB}  authority\u{2019}s \u{2013} ## 2018"),
            "Inspection of Wirralfile \"local\" authority's - 2018"
        );
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn parses_date_ranges() {
        let f = Some(d(2018, 2, 22));
        let cases = [
            (
                "14 and 15 March 2018. The visit",
                Some((d(2018, 3, 14), d(2018, 3, 15))),
            ),
            (
                "30 to 31 October 2018",
                Some((d(2018, 10, 30), d(2018, 10, 31))),
            ),
            (
                "24 - 28 June 2013 Reporting",
                Some((d(2013, 6, 24), d(2013, 6, 28))),
            ),
            (
                "18 March - 9 April 2014",
                Some((d(2014, 3, 18), d(2014, 4, 9))),
            ),
            (
                "15 July 2019 to 26 July 2019 Lead",
                Some((d(2019, 7, 15), d(2019, 7, 26))),
            ),
            (
                "24 January-4 February 2011 Reporting",
                Some((d(2011, 1, 24), d(2011, 2, 4))),
            ),
            (
                "29 and 30 September, and 1 October 2020. The",
                Some((d(2020, 9, 29), d(2020, 10, 1))),
            ),
            (
                "11 July 2022 4 What",
                Some((d(2022, 7, 11), d(2022, 7, 11))),
            ),
            (
                "30 and 31 January. The inspectors",
                Some((d(2018, 1, 30), d(2018, 1, 31))),
            ),
            (
                "Monday 21 January 2020",
                Some((d(2020, 1, 21), d(2020, 1, 21))),
            ),
            (
                "the 15 and 16 of May 2018.",
                Some((d(2018, 5, 15), d(2018, 5, 16))),
            ),
            (
                "12/09/2016 to 06/10/2016 Report",
                Some((d(2016, 9, 12), d(2016, 10, 6))),
            ),
            (
                "19 November-11 December 2013 and 28 - 30 January 2014 The",
                Some((d(2013, 11, 19), d(2014, 1, 30))),
            ),
            (
                "24 October 2022 to 25 October 2023.",
                Some((d(2023, 10, 24), d(2023, 10, 25))),
            ),
            ("the week", None),
            ("", None),
            ("99 March 2018", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_range(s, f), want, "{s}");
        }
    }

    #[test]
    fn reads_ilacs_tables_in_both_layouts() {
        let interleaved = "Inspection dates: 8 October 2018 to 19 October 2018 Judgement Grade The impact of leaders on social work practice with children and families Good The experiences and progress of children who need help and protection Requires improvement to be good The experiences and progress of children in care and care leavers Good Overall effectiveness Good Services for children in care are good";
        let runs = "Judgement Grade The impact of leaders on practice with children and families Outstanding The experiences and progress of children who need help and protection Good The experiences and progress of children in care The experiences and progress of care leavers Good Inadequate The experiences of children";
        let got: Vec<String> = ilacs_judgements(interleaved)
            .iter()
            .map(|(n, g)| format!("{n}={}", g.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                "impact_of_leaders=good",
                "help_and_protection=requires_improvement",
                "children_in_care_and_care_leavers=good",
                "overall_effectiveness=good"
            ]
        );
        let got: Vec<String> = ilacs_judgements(runs)
            .iter()
            .map(|(n, g)| format!("{n}={}", g.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                "impact_of_leaders=outstanding",
                "help_and_protection=good",
                "children_in_care=good",
                "care_leavers=inadequate"
            ]
        );
    }

    #[test]
    fn reads_old_grids() {
        let grid = "Record of main findings:\n\nSafeguarding services\nOverall effectiveness\tGood\nSafeguarding outcomes for children and young people\nChildren and young people are safe and feel safe\tOutstanding\nServices for looked after children\nHow good are outcomes for looked after children and care leavers?\nMaking a positive contribution, including user engagement\tGood\nEconomic well-being\tAdequate\n";
        let got: Vec<String> = grid_judgements(grid)
            .iter()
            .map(|(n, g)| format!("{n}={}", g.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                "safeguarding.overall_effectiveness=good",
                "safeguarding.children_and_young_people_are_safe_and_feel_safe=outstanding",
                "lac.making_a_positive_contribution_including_user_engagement=good",
                "lac.economic_well_being=adequate"
            ]
        );
        let runs = "Record of main findings\nServices for looked after children\nOverall effectiveness\nOutcomes for looked after children and\nyoung people\nQuality of provision\nInadequate\nAdequate\nGood\n";
        let got: Vec<String> = grid_judgements(runs)
            .iter()
            .map(|(n, g)| format!("{n}={}", g.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                "lac.overall_effectiveness=inadequate",
                "lac.outcomes_for_looked_after_children_and_young_people=adequate",
                "lac.quality_of_provision=good"
            ]
        );
    }

    #[test]
    fn survives_odd_input() {
        let table =
            AuthorityTable::from_csv_str("authority,la_code,region\nWirral,E08000015,North West\n")
                .unwrap();
        let clean = CleanText::default();
        for s in [
            "",
            "\u{0}\u{FFFD}é",
            &"x".repeat(200_000),
            &"Record of main findings ".repeat(10_000),
            &"é".repeat(HEAD_BYTES + 1),
        ] {
            let m = extract(s, &clean, &table);
            assert!(m.missing.contains(&"authority".to_string()));
        }
        let m = extract(
            "10 April 2018\nDear Mr Boyce\nMonitoring visit to Wirral children's services\nThis letter summarises the findings of the monitoring visit to Wirral children's services on 14 and 15 March 2018.",
            &clean,
            &table,
        );
        assert_eq!(m.authority.map(|a| a.name), Some("Wirral".to_string()));
        assert_eq!(m.visit_type, Some(VisitType::MonitoringVisit));
        assert_eq!(m.visit_start, Some(d(2018, 3, 14)));
        assert_eq!(m.visit_end, Some(d(2018, 3, 15)));
        assert_eq!(m.published, Some(d(2018, 4, 10)));
        assert!(m.missing.is_empty());

        let m = extract(
            "Joint targeted area inspection of the multi-agency response to abuse and neglect in Wirral\nThis letter sets out the findings. Inspection dates: 4 to 8 March 2019.",
            &clean,
            &table,
        );
        assert_eq!(m.authority.map(|a| a.name), Some("Wirral".to_string()));
        assert_eq!(m.visit_type, Some(VisitType::Jtai));
        assert_eq!(m.visit_end, Some(d(2019, 3, 8)));
        assert_eq!(m.missing, vec!["published date".to_string()]);
    }
}
