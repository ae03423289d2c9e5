//! The local authority reference table: short names, GSS codes, regions and every
//! alternative name a report may use.
//!
//! The table is data (`data/reference/authorities.csv`, one row per authority with a
//! `; `-separated `alt_names` column). Lookups are insensitive to case, punctuation,
//! `&`/`and`, hyphens, a leading "the" and generic council words ("London Borough of",
//! "Metropolitan Borough Council", "City Council", "MBC", "Children's Trust" and so on),
//! so "Metropolitan Borough of Wirral", "Wirral MBC" and "wirral" all resolve to Wirral.

use std::collections::HashMap;
use std::path::Path;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use anyhow::{anyhow, bail, Context, Result};

use crate::model::Authority;

/// Prefixes that name the kind of council rather than the place, longest first.
const GENERIC_PREFIXES: &[&str] = &[
    "the council of the ",
    "council of the ",
    "london borough of ",
    "royal borough of ",
    "metropolitan borough of ",
    "city and county of ",
    "county borough of ",
    "borough council of ",
    "borough of ",
    "city of ",
    "county of ",
    "council of ",
];

/// Suffixes that name the kind of council (or the body delivering its children's services).
const GENERIC_SUFFIXES: &[&str] = &[
    " metropolitan borough council",
    " metropolitan district council",
    " district metropolitan council",
    " metropolitan council",
    " metropolitan borough",
    " metropolitan district",
    " children and families trust",
    " childrens services trust",
    " childrens trust",
    " children first",
    " childrens services",
    " local authority",
    " unitary authority",
    " borough council",
    " county council",
    " district council",
    " city council",
    " council",
    " corporation",
    " mbc",
    " city of",
    " city",
    " borough",
];

/// One authority with the names it is known by.
#[derive(Debug, Clone)]
struct Entry {
    authority: Authority,
    status: String,
}

/// The reference table of local authorities, with name lookups.
#[derive(Debug, Clone)]
pub struct AuthorityTable {
    entries: Vec<Entry>,
    /// Normalised full name -> entry index.
    exact: HashMap<String, usize>,
    /// Name with generic council words stripped -> entry index (ambiguous keys removed).
    stripped: HashMap<String, usize>,
    /// Matcher over the normalised full names, for spotting names in running text.
    matcher: Option<AhoCorasick>,
    /// Pattern index -> entry index.
    pattern_entry: Vec<usize>,
}

impl AuthorityTable {
    /// Reads the table from a CSV file with columns `authority`, `la_code`, `region`
    /// and optionally `status` and `alt_names`.
    pub fn load(path: &Path) -> Result<AuthorityTable> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the authority table {}: check the path (default data/reference/authorities.csv)",
                path.display()
            )
        })?;
        Self::from_csv_str(&text)
            .with_context(|| format!("invalid authority table {}", path.display()))
    }

    /// Parses the table from CSV text (see [`AuthorityTable::load`] for the columns).
    pub fn from_csv_str(s: &str) -> Result<AuthorityTable> {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(false)
            .trim(csv::Trim::All)
            .from_reader(s.as_bytes());
        let headers = rdr
            .headers()
            .context("cannot read the header line (line 1): it must name the columns")?
            .clone();
        let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        let need = |name: &str| {
            col(name)
                .ok_or_else(|| anyhow!("line 1: missing column `{name}`; add it to the header"))
        };
        let c_name = need("authority")?;
        let c_code = need("la_code")?;
        let c_region = need("region")?;
        let c_status = col("status");
        let c_alt = col("alt_names");

        let mut rows: Vec<(Entry, Vec<String>)> = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                anyhow!("line {line}: {e}; fix the row so it has the header's columns")
            })?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let get = |i: usize| rec.get(i).unwrap_or("").to_string();
            let name = get(c_name);
            if name.is_empty() {
                bail!("line {line}: empty `authority`; give the short name of the authority");
            }
            let code = get(c_code);
            if code.is_empty() {
                bail!("line {line}: empty `la_code` for {name}; give its GSS code");
            }
            let entry = Entry {
                authority: Authority {
                    name: name.clone(),
                    la_code: code,
                    region: get(c_region),
                },
                status: c_status.map(get).unwrap_or_default(),
            };
            let mut names = vec![name];
            if let Some(c) = c_alt {
                names.extend(
                    get(c)
                        .split(';')
                        .map(|a| a.trim().to_string())
                        .filter(|a| !a.is_empty()),
                );
            }
            rows.push((entry, names));
        }
        if rows.is_empty() {
            bail!("the table has no rows; add one row per authority");
        }
        Ok(Self::build(rows))
    }

    fn build(rows: Vec<(Entry, Vec<String>)>) -> AuthorityTable {
        let mut entries = Vec::with_capacity(rows.len());
        let mut exact: HashMap<String, usize> = HashMap::new();
        let mut stripped: HashMap<String, Option<usize>> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_entry = Vec::new();
        for (i, (entry, names)) in rows.into_iter().enumerate() {
            for n in &names {
                let norm = drop_the(&normalise(n)).to_string();
                if norm.is_empty() {
                    continue;
                }
                // An earlier row keeps a full name (current authorities come first).
                if !exact.contains_key(&norm) {
                    exact.insert(norm.clone(), i);
                    patterns.push(norm.clone());
                    pattern_entry.push(i);
                }
                let s = strip_generic(&norm);
                match stripped.get(&s) {
                    None => {
                        stripped.insert(s, Some(i));
                    }
                    Some(Some(j)) if *j != i => {
                        stripped.insert(s, None);
                    }
                    _ => {}
                }
            }
            entries.push(entry);
        }
        let stripped = stripped
            .into_iter()
            .filter_map(|(k, v)| v.map(|i| (k, i)))
            .collect();
        let matcher = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .ok();
        AuthorityTable {
            entries,
            exact,
            stripped,
            matcher,
            pattern_entry,
        }
    }

    /// Number of authorities in the table.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the table has no authorities.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All authorities, in table order.
    pub fn iter(&self) -> impl Iterator<Item = &Authority> {
        self.entries.iter().map(|e| &e.authority)
    }

    /// The status column (`current` or `legacy`) of an authority, by GSS code.
    pub fn status(&self, la_code: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.authority.la_code == la_code)
            .map(|e| e.status.as_str())
    }

    /// The authority with this GSS code.
    pub fn by_code(&self, la_code: &str) -> Option<&Authority> {
        self.iter().find(|a| a.la_code == la_code)
    }

    /// Resolves a name as written ("Wirral Metropolitan Borough Council",
    /// "London Borough of Camden", "Bristol, City of", "Dudley MBC") to an authority.
    pub fn resolve(&self, name: &str) -> Option<&Authority> {
        if name.len() > 300 {
            return None;
        }
        let norm = normalise(name);
        let norm = drop_the(&norm);
        if norm.is_empty() {
            return None;
        }
        if let Some(&i) = self.exact.get(norm) {
            return Some(&self.entries[i].authority);
        }
        let s = strip_generic(norm);
        if let Some(&i) = self.exact.get(&s).or_else(|| self.stripped.get(&s)) {
            return Some(&self.entries[i].authority);
        }
        None
    }

    /// Finds authority names in running text: byte offset (in `text`) of each match and
    /// the authority. Matches are whole words and must start with a capital letter, so
    /// "reading" or "bury" in prose do not count.
    pub fn find_in(&self, text: &str) -> Vec<(usize, &Authority)> {
        let Some(matcher) = &self.matcher else {
            return Vec::new();
        };
        let (norm, map) = normalise_with_map(text);
        let bytes = norm.as_bytes();
        let mut out = Vec::new();
        for m in matcher.find_iter(&norm) {
            let (s, e) = (m.start(), m.end());
            let before_ok = s == 0 || bytes[s - 1] == b' ';
            let after_ok = e == bytes.len() || bytes[e] == b' ';
            if !before_ok || !after_ok {
                continue;
            }
            let src = map[s];
            let capital = text[src..]
                .chars()
                .next()
                .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit());
            if !capital {
                continue;
            }
            let entry = self.pattern_entry[m.pattern().as_usize()];
            out.push((src, &self.entries[entry].authority));
        }
        out
    }
}

/// Lowercases, turns `&` into "and", drops apostrophes and full stops inside words,
/// turns other punctuation into spaces and collapses white space.
pub fn normalise(s: &str) -> String {
    normalise_with_map(s).0
}

/// [`normalise`], plus for each byte of the output the byte offset in `s` it came from.
fn normalise_with_map(s: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(s.len());
    let mut map = Vec::with_capacity(s.len());
    let mut pending_space = false;
    let push_space = |out: &mut String, map: &mut Vec<usize>, pending: &mut bool, at: usize| {
        if *pending && !out.is_empty() {
            out.push(' ');
            map.push(at);
        }
        *pending = false;
    };
    for (i, c) in s.char_indices() {
        if c.is_alphanumeric() {
            push_space(&mut out, &mut map, &mut pending_space, i);
            for lc in c.to_lowercase() {
                let before = out.len();
                out.push(lc);
                map.extend(std::iter::repeat_n(i, out.len() - before));
            }
        } else if matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '`') {
            // "Children's" -> "childrens"
        } else if c == '&' {
            pending_space = true;
            push_space(&mut out, &mut map, &mut pending_space, i);
            out.push_str("and");
            map.extend([i, i, i]);
            pending_space = true;
        } else {
            pending_space = true;
        }
    }
    (out, map)
}

fn drop_the(s: &str) -> &str {
    s.strip_prefix("the ").unwrap_or(s)
}

/// Removes generic council words from both ends of a normalised name, keeping at least one word.
fn strip_generic(norm: &str) -> String {
    let mut s = drop_the(norm).to_string();
    loop {
        let mut changed = false;
        for p in GENERIC_PREFIXES {
            if s.len() > p.len() && s.starts_with(p) {
                s = s[p.len()..].to_string();
                changed = true;
                break;
            }
        }
        for suf in GENERIC_SUFFIXES {
            if s.len() > suf.len() && s.ends_with(suf) {
                s.truncate(s.len() - suf.len());
                changed = true;
                break;
            }
        }
        if !changed {
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "authority,la_code,region,status,alt_names
Wirral,E08000015,North West,current,Wirral Borough Council; Wirral Metropolitan Borough Council
Slough,E06000039,South East,current,Slough Borough Council
Bristol,E06000023,South West,current,\"Bristol, City of\"; Bristol City Council
Dudley,E08000027,West Midlands,current,Dudley Metropolitan Borough Council; Dudley MBC
Camden,E09000007,London,current,London Borough of Camden
City of London,E09000001,London,current,City of London Corporation
Bedford Borough,E06000055,East of England,current,Bedford Borough Council; Bedford
Central Bedfordshire,E06000056,East of England,current,Central Bedfordshire Council
North Northamptonshire,E06000061,East Midlands,current,North Northamptonshire Council
\"Bournemouth, Christchurch and Poole\",E06000058,South West,current,BCP
Poole,E06000029,South West,legacy,Borough of Poole
Northamptonshire,E10000021,East Midlands,legacy,Northamptonshire County Council
St Helens,E08000013,North West,current,St. Helens; St Helens Council
Reading,E06000038,South East,current,Reading Borough Council
Kingston upon Hull,E06000010,Yorkshire and The Humber,current,\"Kingston Upon Hull, City of\"; Hull City Council; Hull
";

    fn table() -> AuthorityTable {
        AuthorityTable::from_csv_str(CSV).unwrap()
    }

    #[test]
    fn resolves_name_variants() {
        let t = table();
        let cases = [
            ("Wirral Metropolitan Borough Council", Some("Wirral")),
            ("Metropolitan Borough of Wirral", Some("Wirral")),
            ("the Wirral", Some("Wirral")),
            ("WIRRAL MBC", Some("Wirral")),
            ("Slough Children First", Some("Slough")),
            ("Bristol, City of", Some("Bristol")),
            ("City of Bristol", Some("Bristol")),
            ("Dudley MBC", Some("Dudley")),
            ("London Borough of Camden", Some("Camden")),
            ("City of London", Some("City of London")),
            ("Bedford Borough Council", Some("Bedford Borough")),
            ("Bedford", Some("Bedford Borough")),
            ("Central Bedfordshire Council", Some("Central Bedfordshire")),
            ("North Northamptonshire", Some("North Northamptonshire")),
            (
                "Northamptonshire Children's Trust",
                Some("Northamptonshire"),
            ),
            ("Borough of Poole", Some("Poole")),
            ("St. Helens Council", Some("St Helens")),
            (
                "Kingston-upon-Hull City Council",
                Some("Kingston upon Hull"),
            ),
            ("Hull", Some("Kingston upon Hull")),
            ("Nowhere", None),
            ("", None),
            ("Council", None),
        ];
        for (name, want) in cases {
            assert_eq!(t.resolve(name).map(|a| a.name.as_str()), want, "{name}");
        }
        assert_eq!(t.len(), 15);
    }

    #[test]
    fn finds_names_in_text() {
        let t = table();
        let text =
            "Reading the files, inspectors in Central Bedfordshire and St. Helens Council saw";
        let found: Vec<_> = t
            .find_in(text)
            .into_iter()
            .map(|(i, a)| (i, a.name.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![
                (0, "Reading"),
                (33, "Central Bedfordshire"),
                (58, "St Helens")
            ]
        );
        assert!(t.find_in("reading and bury").is_empty());
        assert!(t.find_in("").is_empty());
    }

    #[test]
    fn reports_bad_rows() {
        let err = AuthorityTable::from_csv_str("authority,la_code,region\nWirral,,North West\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(AuthorityTable::from_csv_str("name,code\n").is_err());
    }

    #[test]
    fn normalises_punctuation() {
        assert_eq!(normalise("Telford & Wrekin"), "telford and wrekin");
        assert_eq!(normalise("  Children’s  Trust, "), "childrens trust");
        assert_eq!(strip_generic("london borough of camden council"), "camden");
    }
}
