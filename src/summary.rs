//! Markdown summaries: `summary.md` for the corpus and `summaries/<authority>.md` for each
//! authority, with quoted findings cited by document and finding id.
//!
//! Plain CommonMark with pipe tables: renders on GitHub and converts with pandoc. Links to
//! charts are relative to the output folder.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use crate::aggregate::{cols, Tables};
use crate::model::{Stance, Status};
use crate::pipeline::{Resources, RunStats};
use crate::report::Facts;
use crate::report::{DocSummary, Quote};

/// Quotes shown per theme in an authority summary.
const QUOTES: usize = 3;

/// The `evaluate` figures quoted in the summary, with their labels.
const QUOTED_FIGURES: [(&str, &str); 7] = [
    ("required_macro_f1", "macro F1, required themes"),
    ("macro_f1", "macro F1, all themes"),
    ("micro_f1", "micro F1"),
    ("stance_accuracy", "stance accuracy"),
    ("stance_kappa", "stance Cohen's kappa"),
    ("metadata_accuracy", "metadata fields right"),
    ("gold_findings", "hand-coded findings compared"),
];

/// Agreement figures from an `evaluate` run (`metric,value` rows of its `summary.csv`).
pub type EvaluationFigures = Vec<(String, String)>;

/// Read an `evaluate` summary CSV.
pub fn read_evaluation(path: &Path) -> anyhow::Result<EvaluationFigures> {
    let mut r = csv::Reader::from_path(path)?;
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        out.push((
            rec.get(0).unwrap_or("").to_string(),
            rec.get(1).unwrap_or("").to_string(),
        ));
    }
    Ok(out)
}

/// A file-name-safe form of an authority name.
pub fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    s.trim_end_matches('-').to_string()
}

fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}

fn pct(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// Render `summary.md` and one file per authority.
pub fn render(
    stats: &RunStats,
    res: &Resources,
    facts: &Facts,
    tables: &Tables,
    evaluation: Option<&EvaluationFigures>,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let book = &res.tagger.book;
    let mut md = String::new();
    let ok: &[DocSummary] = &facts.summaries;
    let mut authorities: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, d) in ok.iter().enumerate() {
        if let Some(a) = &d.metadata.authority {
            authorities.entry(a.name.as_str()).or_default().push(i);
        }
    }
    // (document, theme, stance) -> findings
    let mut counts: HashMap<(usize, usize, Stance), usize> = HashMap::new();
    for t in &facts.tags {
        *counts.entry((t.doc, t.theme, t.stance)).or_default() += 1;
    }
    let _ = writeln!(md, "# Themes in Ofsted children's services reports\n");
    let years: Vec<i32> = ok.iter().filter_map(|d| d.metadata.year()).collect();
    let span = match (years.iter().min(), years.iter().max()) {
        (Some(a), Some(b)) if a != b => format!(", {a} to {b}"),
        (Some(a), _) => format!(", {a}"),
        _ => String::new(),
    };
    let _ = writeln!(
        md,
        "{} reports about {} local authorities{span}. Files read: {} ({} ok, {} duplicate, {} skipped, {} failed; see `documents.csv`).\n",
        ok.len(),
        authorities.len(),
        stats.files,
        stats.count(Status::Ok),
        stats.count(Status::Duplicate),
        stats.count(Status::Skipped),
        stats.count(Status::Failed)
    );
    // Reports by visit type and year.
    let mut grid: BTreeMap<String, BTreeMap<i32, usize>> = BTreeMap::new();
    let mut all_years: Vec<i32> = years.clone();
    all_years.sort_unstable();
    all_years.dedup();
    for d in ok {
        let vt = d
            .metadata
            .visit_type
            .map(|v| v.as_str())
            .unwrap_or("unknown")
            .to_string();
        *grid
            .entry(vt)
            .or_default()
            .entry(d.metadata.year().unwrap_or(0))
            .or_default() += 1;
    }
    let _ = writeln!(md, "## The corpus\n\nReports by visit type and year:\n");
    let _ = write!(md, "| visit type |");
    for y in &all_years {
        let _ = write!(md, " {y} |");
    }
    let _ = writeln!(md, " total |");
    let _ = writeln!(md, "|---|{}---:|", "---:|".repeat(all_years.len()));
    for (vt, by) in &grid {
        let _ = write!(md, "| {vt} |");
        for y in &all_years {
            let _ = write!(md, " {} |", by.get(y).copied().unwrap_or(0));
        }
        let _ = writeln!(md, " {} |", by.values().sum::<usize>());
    }
    let _ = writeln!(
        md,
        "\nCodebook: `{}` ({} themes, sha256 `{}`).\n",
        res.codebook_source,
        book.themes.len(),
        &res.codebook_hash[..12]
    );
    let _ = writeln!(md, "### How far to trust the tags\n");
    match evaluation {
        Some(figs) if !figs.is_empty() => {
            let _ = writeln!(md, "Agreement of this codebook with hand coding (`ofsted-themes evaluate`):\n\n| measure | value |\n|---|---:|");
            for (key, label) in QUOTED_FIGURES {
                if let Some((_, v)) = figs.iter().find(|(k, _)| k == key) {
                    let _ = writeln!(md, "| {label} | {} |", escape(v));
                }
            }
            md.push('\n');
        }
        _ => {
            let _ = writeln!(
                md,
                "Run `ofsted-themes evaluate --gold DIR` on hand-coded reports to measure agreement, and name its `summary.csv` as `evaluation` in the pipeline file to quote it here.\n"
            );
        }
    }

    // National picture.
    let _ = writeln!(md, "## National picture\n\n![Share of reports raising each required theme as a concern](charts/trend_required.png)\n");
    let by_year = &tables.by_year;
    let theme_col: Vec<String> = by_year
        .column(cols::THEME)?
        .str()?
        .iter()
        .map(|s| s.unwrap_or("").to_string())
        .collect();
    let year_col: Vec<Option<i32>> = by_year.column(cols::YEAR)?.i32()?.iter().collect();
    let share_col: Vec<Option<f64>> = by_year
        .column(cols::SHARE_OF_REPORTS)?
        .f64()?
        .iter()
        .collect();
    let reports_col: Vec<Option<i64>> = by_year.column(cols::REPORTS)?.i64()?.iter().collect();
    let _ = writeln!(md, "| theme | findings | strength | concern | mixed | neutral | reports raising it as a concern | direction |\n|---|---:|---:|---:|---:|---:|---:|---|");
    for (ti, t) in book.themes.iter().enumerate() {
        let mut counts = [0usize; 4];
        let mut docs_concern = std::collections::BTreeSet::new();
        for tag in facts.tags.iter().filter(|x| x.theme == ti) {
            counts[tag.stance as usize] += 1;
            if tag.stance == Stance::Concern {
                docs_concern.insert(tag.doc);
            }
        }
        let points: Vec<(f64, f64, usize)> = (0..theme_col.len())
            .filter(|&i| theme_col[i] == t.id)
            .filter_map(|i| Some((year_col[i]? as f64, share_col[i]?, reports_col[i]? as usize)))
            .collect();
        let _ = writeln!(
            md,
            "| {}{} | {} | {} | {} | {} | {} | {} of {} ({}) | {} |",
            escape(&t.label),
            if t.required { " *" } else { "" },
            counts.iter().sum::<usize>(),
            counts[0],
            counts[1],
            counts[2],
            counts[3],
            docs_concern.len(),
            ok.len(),
            if ok.is_empty() {
                "-".into()
            } else {
                pct(docs_concern.len() as f64 / ok.len() as f64)
            },
            direction(&points)
        );
    }
    let _ = writeln!(md, "\n\\* required theme. Direction: the trend of the yearly share of reports raising the theme as a concern (least-squares slope; steady within 2 points a year).\n");
    let _ = writeln!(
        md,
        "![Findings by theme and stance](charts/stance_by_theme.png)\n"
    );
    let _ = writeln!(
        md,
        "![Concern share by authority and theme](charts/heatmap_concern.png)\n"
    );

    let _ = writeln!(md, "## Authorities\n");
    let mut files = Vec::new();
    for (name, docs) in &authorities {
        let file = format!("summaries/{}.md", slug(name));
        let _ = writeln!(
            md,
            "- [{name}]({file}): {} report{}",
            docs.len(),
            if docs.len() == 1 { "" } else { "s" }
        );
        files.push((
            file,
            authority_summary(name, docs, ok, &counts, res).into_bytes(),
        ));
    }
    let mut out = vec![("summary.md".to_string(), md.into_bytes())];
    out.extend(files);
    Ok(out)
}

/// Years need at least this many reports to count towards a direction.
const MIN_REPORTS_FOR_TREND: usize = 5;
/// And a direction needs at least this many such years.
const MIN_YEARS_FOR_TREND: usize = 3;

/// The direction of (year, share, reports) points: rising, falling or steady, from the
/// least-squares slope over the years with enough reports to say.
fn direction(points: &[(f64, f64, usize)]) -> String {
    let points: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.2 >= MIN_REPORTS_FOR_TREND)
        .map(|p| (p.0, p.1))
        .collect();
    if points.len() < MIN_YEARS_FOR_TREND {
        return format!(
            "too few reports to tell (needs {MIN_YEARS_FOR_TREND} years of {MIN_REPORTS_FOR_TREND}+ reports)"
        );
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let (first, last) = (points[0].0 as i32, points[points.len() - 1].0 as i32);
    if slope > 0.02 {
        format!("rising ({first} to {last})")
    } else if slope < -0.02 {
        format!("falling ({first} to {last})")
    } else {
        format!("steady ({first} to {last})")
    }
}

fn quote(d: &DocSummary, q: &Quote) -> String {
    format!(
        "> {}\n>\n> — `{}`, finding {}\n",
        q.text, d.rel, q.finding_id
    )
}

fn authority_summary(
    name: &str,
    docs: &[usize],
    all: &[DocSummary],
    counts: &HashMap<(usize, usize, Stance), usize>,
    res: &Resources,
) -> String {
    let book = &res.tagger.book;
    let mut docs: Vec<usize> = docs.to_vec();
    docs.sort_by_key(|&i| {
        let m = &all[i].metadata;
        (m.visit_start.or(m.published), all[i].rel.clone())
    });
    let count = |d: usize, t: usize, s: Stance| counts.get(&(d, t, s)).copied().unwrap_or(0);
    let mut md = String::new();
    let first = &all[docs[0]].metadata;
    let _ = writeln!(
        md,
        "# {name}\n\n{} ({} region). {} report{}.\n",
        first.la_code(),
        first.region(),
        docs.len(),
        if docs.len() == 1 { "" } else { "s" }
    );
    if docs
        .iter()
        .filter(|&&i| all[i].metadata.year().is_some())
        .count()
        >= 2
    {
        let _ = writeln!(
            md,
            "![{name}: concern findings per report](../charts/authority/{}.png)\n",
            slug(name)
        );
    }
    let _ = writeln!(
        md,
        "## Visits\n\n| visit start | visit type | judgements | document |\n|---|---|---|---|"
    );
    for &i in &docs {
        let m = &all[i].metadata;
        let _ = writeln!(
            md,
            "| {} | {} | {} | `{}` |",
            m.visit_start.map(|d| d.to_string()).unwrap_or_default(),
            m.visit_type_str(),
            escape(&m.judgements_string().replace(';', "; ")),
            all[i].rel
        );
    }
    for (heading, stance) in [
        ("Concerns", Stance::Concern),
        ("Strengths", Stance::Strength),
    ] {
        let _ = writeln!(md, "\n## {heading}\n");
        // Themes ordered by how often they are raised with this stance.
        let mut per_theme: Vec<(usize, usize)> = (0..book.themes.len())
            .map(|t| (t, docs.iter().map(|&d| count(d, t, stance)).sum()))
            .filter(|(_, n)| *n > 0)
            .collect();
        per_theme.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (t, n) in &per_theme {
            let _ = writeln!(
                md,
                "### {} ({n} finding{})\n",
                book.themes[*t].label,
                if *n == 1 { "" } else { "s" }
            );
            let quotes = docs.iter().flat_map(|&d| {
                all[d]
                    .quotes
                    .iter()
                    .filter(move |q| q.theme == *t && q.stance == stance)
                    .map(move |q| (d, q))
            });
            for (d, q) in quotes.take(QUOTES) {
                let _ = writeln!(md, "{}", quote(&all[d], q));
            }
        }
        if per_theme.is_empty() {
            let _ = writeln!(md, "None found.");
        }
    }
    let _ = writeln!(md, "\n## Persistent concerns\n");
    let mut persistent = Vec::new();
    let year = |i: usize| {
        all[i]
            .metadata
            .year()
            .map(|y| y.to_string())
            .unwrap_or_else(|| "?".into())
    };
    for (t, theme) in book.themes.iter().enumerate() {
        let runs: Vec<String> = docs
            .windows(2)
            .filter(|w| count(w[0], t, Stance::Concern) > 0 && count(w[1], t, Stance::Concern) > 0)
            .map(|w| format!("{} and {}", year(w[0]), year(w[1])))
            .collect();
        if !runs.is_empty() {
            persistent.push(format!(
                "- {}: raised as a concern in consecutive visits ({})",
                theme.label,
                runs.join("; ")
            ));
        }
    }
    if persistent.is_empty() {
        let _ = writeln!(
            md,
            "{}",
            if docs.len() < 2 {
                "One report only: nothing to compare."
            } else {
                "No theme was raised as a concern in consecutive visits."
            }
        );
    } else {
        let _ = writeln!(md, "{}", persistent.join("\n"));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_safe() {
        assert_eq!(
            slug("Bournemouth, Christchurch and Poole"),
            "bournemouth-christchurch-and-poole"
        );
        assert_eq!(slug("St. Helens"), "st-helens");
    }

    #[test]
    fn direction_reads_the_slope() {
        let p = |y: f64, v: f64| (y, v, 10);
        assert_eq!(
            direction(&[p(2018.0, 0.1), p(2019.0, 0.3), p(2020.0, 0.5)]),
            "rising (2018 to 2020)"
        );
        assert_eq!(
            direction(&[p(2018.0, 0.5), p(2019.0, 0.3), p(2020.0, 0.1)]),
            "falling (2018 to 2020)"
        );
        assert_eq!(
            direction(&[p(2018.0, 0.5), p(2019.0, 0.52), p(2020.0, 0.51)]),
            "steady (2018 to 2020)"
        );
        // Years with few reports do not count.
        assert!(
            direction(&[p(2018.0, 0.1), (2019.0, 0.9, 1), p(2020.0, 0.2)])
                .starts_with("too few reports")
        );
    }
}
