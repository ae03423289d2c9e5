//! Aggregate: theme counts by authority and year, by year, and by document, in polars.
//!
//! Inputs are the per-document facts (`DocFacts`) and one row per finding x theme (`TagFact`)
//! of every `ok` document (duplicates and non-reports never reach this stage). Tables are built
//! lazily from small named expressions; column names are the constants below, which are part of
//! the output contract. Every theme appears for every group of reports, with zero counts where
//! the theme was not raised, so that trends show absence as zero rather than as a gap.

use polars::prelude::*;

/// Column names of the aggregate tables.
pub mod cols {
    pub const DOCUMENT: &str = "document";
    pub const AUTHORITY: &str = "authority";
    pub const LA_CODE: &str = "la_code";
    pub const REGION: &str = "region";
    pub const YEAR: &str = "year";
    pub const VISIT_TYPE: &str = "visit_type";
    pub const THEME: &str = "theme";
    pub const THEME_ORDER: &str = "theme_order";
    pub const STANCE: &str = "stance";
    pub const WORDS: &str = "words";
    pub const DOCUMENTS: &str = "documents";
    pub const FINDINGS: &str = "findings";
    pub const STRENGTH: &str = "strength";
    pub const CONCERN: &str = "concern";
    pub const MIXED: &str = "mixed";
    pub const NEUTRAL: &str = "neutral";
    pub const PER_1000_WORDS: &str = "per_1000_words";
    pub const CONCERN_SHARE: &str = "concern_share";
    pub const REPORTS: &str = "reports";
    pub const REPORTS_WITH_CONCERN: &str = "reports_with_concern";
    pub const SHARE_OF_REPORTS: &str = "share_of_reports";
    pub const KEY: &str = "_key";
}

use cols::*;

/// What the tables need to know about one processed report.
#[derive(Debug, Clone)]
pub struct DocFacts {
    pub document: String,
    pub authority: String,
    pub la_code: String,
    pub region: String,
    /// 0 when unknown.
    pub year: i32,
    pub visit_type: String,
    pub words: u64,
}

/// One theme on one finding.
#[derive(Debug, Clone)]
pub struct TagFact {
    /// Index into the document list.
    pub doc: usize,
    pub theme: usize,
    pub stance: crate::model::Stance,
}

/// The aggregate tables, as DataFrames with the contract's columns in order.
pub struct Tables {
    pub by_authority_year: DataFrame,
    pub by_year: DataFrame,
    pub by_document: DataFrame,
}

fn docs_frame(docs: &[DocFacts]) -> PolarsResult<DataFrame> {
    df!(
        DOCUMENT => docs.iter().map(|d| d.document.as_str()).collect::<Vec<_>>(),
        AUTHORITY => docs.iter().map(|d| d.authority.as_str()).collect::<Vec<_>>(),
        LA_CODE => docs.iter().map(|d| d.la_code.as_str()).collect::<Vec<_>>(),
        REGION => docs.iter().map(|d| d.region.as_str()).collect::<Vec<_>>(),
        YEAR => docs.iter().map(|d| d.year).collect::<Vec<_>>(),
        VISIT_TYPE => docs.iter().map(|d| d.visit_type.as_str()).collect::<Vec<_>>(),
        WORDS => docs.iter().map(|d| d.words as i64).collect::<Vec<_>>(),
    )
}

fn tags_frame(docs: &[DocFacts], tags: &[TagFact], themes: &[String]) -> PolarsResult<DataFrame> {
    df!(
        DOCUMENT => tags.iter().map(|t| docs[t.doc].document.as_str()).collect::<Vec<_>>(),
        THEME => tags.iter().map(|t| themes[t.theme].as_str()).collect::<Vec<_>>(),
        STANCE => tags.iter().map(|t| t.stance.as_str()).collect::<Vec<_>>(),
    )
}

fn themes_frame(themes: &[String]) -> PolarsResult<DataFrame> {
    df!(
        THEME => themes.iter().map(String::as_str).collect::<Vec<_>>(),
        THEME_ORDER => (0..themes.len() as i32).collect::<Vec<_>>(),
        KEY => vec![1i32; themes.len()],
    )
}

/// Count of rows whose stance is `stance`.
fn stance_count(stance: &str) -> Expr {
    col(STANCE)
        .eq(lit(stance))
        .cast(DataType::Int64)
        .sum()
        .alias(stance)
}

/// Per document x theme counts.
fn per_document(tags: LazyFrame) -> LazyFrame {
    tags.group_by([col(DOCUMENT), col(THEME)]).agg([
        len().cast(DataType::Int64).alias(FINDINGS),
        stance_count(STRENGTH),
        stance_count(CONCERN),
        stance_count(MIXED),
        stance_count(NEUTRAL),
    ])
}

fn ratio(num: Expr, den: Expr) -> Expr {
    when(den.clone().gt(lit(0)))
        .then(num.cast(DataType::Float64) / den.cast(DataType::Float64))
        .otherwise(lit(NULL).cast(DataType::Float64))
}

fn sum_i64(name: &str) -> Expr {
    col(name).sum().alias(name)
}

/// Theme measures for every group of reports sharing `keys` (e.g. authority and year).
fn theme_table(
    docs: &LazyFrame,
    per_doc: &LazyFrame,
    themes: &LazyFrame,
    keys: &[&str],
) -> LazyFrame {
    let key_cols: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    let groups = docs
        .clone()
        .group_by(key_cols.clone())
        .agg([len().cast(DataType::Int64).alias(REPORTS), sum_i64(WORDS)])
        .with_column(lit(1i32).alias(KEY));
    // Every group x every theme (an equi-join on a constant key).
    let grid = groups.join(
        themes.clone(),
        [col(KEY)],
        [col(KEY)],
        JoinArgs::new(JoinType::Inner),
    );
    let counted = per_doc
        .clone()
        .join(
            docs.clone(),
            [col(DOCUMENT)],
            [col(DOCUMENT)],
            JoinArgs::new(JoinType::Inner),
        )
        .group_by(
            key_cols
                .iter()
                .cloned()
                .chain([col(THEME)])
                .collect::<Vec<_>>(),
        )
        .agg([
            col(DOCUMENT)
                .n_unique()
                .cast(DataType::Int64)
                .alias(DOCUMENTS),
            sum_i64(FINDINGS),
            sum_i64(STRENGTH),
            sum_i64(CONCERN),
            sum_i64(MIXED),
            sum_i64(NEUTRAL),
            col(CONCERN)
                .gt(lit(0))
                .cast(DataType::Int64)
                .sum()
                .alias(REPORTS_WITH_CONCERN),
        ]);
    let join_keys: Vec<Expr> = key_cols.iter().cloned().chain([col(THEME)]).collect();
    let counts = [
        DOCUMENTS,
        FINDINGS,
        STRENGTH,
        CONCERN,
        MIXED,
        NEUTRAL,
        REPORTS_WITH_CONCERN,
    ];
    let mut select: Vec<Expr> = key_cols.clone();
    select.push(col(THEME));
    select.extend(counts[..6].iter().map(|c| col(*c)));
    select.extend([
        ratio(col(FINDINGS) * lit(1000i64), col(WORDS)).alias(PER_1000_WORDS),
        ratio(col(CONCERN), col(FINDINGS)).alias(CONCERN_SHARE),
        col(REPORTS),
        ratio(col(REPORTS_WITH_CONCERN), col(REPORTS)).alias(SHARE_OF_REPORTS),
    ]);
    let mut sort_by: Vec<PlSmallStr> = keys.iter().map(|k| PlSmallStr::from(*k)).collect();
    sort_by.push(THEME_ORDER.into());
    grid.join(
        counted,
        join_keys.clone(),
        join_keys,
        JoinArgs::new(JoinType::Left),
    )
    .with_columns(
        counts
            .iter()
            .map(|c| col(*c).fill_null(lit(0i64)))
            .collect::<Vec<_>>(),
    )
    .sort(sort_by, SortMultipleOptions::default())
    .select(select)
}

/// One row per document, one column per theme and stance (concern and strength counts).
fn document_table(
    docs: &DataFrame,
    per_doc: DataFrame,
    themes: &[String],
) -> PolarsResult<DataFrame> {
    let names = per_doc.column(DOCUMENT)?.str()?.clone();
    let theme_col = per_doc.column(THEME)?.str()?.clone();
    let concern = per_doc.column(CONCERN)?.i64()?.clone();
    let strength = per_doc.column(STRENGTH)?.i64()?.clone();
    let doc_names = docs.column(DOCUMENT)?.str()?.clone();
    let index: std::collections::HashMap<&str, usize> = doc_names
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.map(|d| (d, i)))
        .collect();
    let theme_index: std::collections::HashMap<&str, usize> = themes
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    let n = docs.height();
    let mut counts = vec![vec![0i64; n]; themes.len() * 2];
    for i in 0..per_doc.height() {
        let (Some(d), Some(t)) = (names.get(i), theme_col.get(i)) else {
            continue;
        };
        let (Some(&di), Some(&ti)) = (index.get(d), theme_index.get(t)) else {
            continue;
        };
        counts[ti * 2][di] = concern.get(i).unwrap_or(0);
        counts[ti * 2 + 1][di] = strength.get(i).unwrap_or(0);
    }
    let mut columns: Vec<Column> = [DOCUMENT, AUTHORITY, LA_CODE, YEAR, VISIT_TYPE]
        .iter()
        .map(|c| docs.column(c).cloned())
        .collect::<PolarsResult<_>>()?;
    for (ti, t) in themes.iter().enumerate() {
        columns.push(Column::new(
            format!("{t}_concern").into(),
            std::mem::take(&mut counts[ti * 2]),
        ));
        columns.push(Column::new(
            format!("{t}_strength").into(),
            std::mem::take(&mut counts[ti * 2 + 1]),
        ));
    }
    DataFrame::new(n, columns)
}

/// Replace the 0 standing for an unknown year with a null, for output.
fn year_nullable(lf: LazyFrame) -> LazyFrame {
    lf.with_column(
        when(col(YEAR).gt(lit(0)))
            .then(col(YEAR))
            .otherwise(lit(NULL).cast(DataType::Int32))
            .alias(YEAR),
    )
}

/// Build every aggregate table.
pub fn build(docs: &[DocFacts], tags: &[TagFact], themes: &[String]) -> PolarsResult<Tables> {
    let docs_df = docs_frame(docs)?;
    let docs_lf = docs_df.clone().lazy();
    let per_doc = per_document(tags_frame(docs, tags, themes)?.lazy()).collect()?;
    let per_doc_lf = per_doc.clone().lazy();
    let themes_lf = themes_frame(themes)?.lazy();
    let by_authority_year = year_nullable(theme_table(
        &docs_lf,
        &per_doc_lf,
        &themes_lf,
        &[AUTHORITY, LA_CODE, YEAR],
    ))
    .collect()?;
    let by_year =
        year_nullable(theme_table(&docs_lf, &per_doc_lf, &themes_lf, &[YEAR])).collect()?;
    let by_document = year_nullable(document_table(&docs_df, per_doc, themes)?.lazy()).collect()?;
    Ok(Tables {
        by_authority_year,
        by_year,
        by_document,
    })
}
