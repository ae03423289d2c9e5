//! Command line: `ofsted-themes run`, `evaluate` and `codebook`.
//!
//! `main` returns an exit code: 0 when every file was read, 2 when any file failed or the
//! configuration was unusable (one line naming the file and what to do), 1 when `evaluate`
//! falls below `--min-f1`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use ofsted_themes::codebook::Codebook;
use ofsted_themes::config::{Overrides, Settings};
use ofsted_themes::model::Status;
use ofsted_themes::pipeline::{self, Resources};
use ofsted_themes::{evaluate, evaluate_run, report};

/// mimalloc: the pipeline allocates many small strings on every worker thread at once.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "ofsted-themes",
    version,
    about = "Themes, stances and evidence from Ofsted children's services reports"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a pipeline over a folder of reports and write CSVs, charts and summaries.
    #[command(after_help = "Examples:
  ofsted-themes run pipelines/default.toml
  ofsted-themes run --input ~/reports --output out
  ofsted-themes run pipelines/default.toml --codebook my-codebook.toml --threads 2 --parquet")]
    Run {
        /// Pipeline TOML file (flags override its settings).
        pipeline: Option<PathBuf>,
        /// Folder of reports (.pdf, .txt, .text or .md files, searched recursively).
        #[arg(long, value_name = "DIR")]
        input: Option<PathBuf>,
        /// Folder to write outputs to.
        #[arg(long, value_name = "DIR")]
        output: Option<PathBuf>,
        /// Codebook TOML file.
        #[arg(long, value_name = "FILE")]
        codebook: Option<PathBuf>,
        /// Worker threads (default: one per core).
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        /// Also write every table as Parquet (in parquet/).
        #[arg(long)]
        parquet: bool,
        /// No progress bar or per-file messages.
        #[arg(long)]
        quiet: bool,
    },
    /// Compare the pipeline with hand-coded reports: theme, stance and metadata agreement.
    #[command(after_help = "Examples:
  ofsted-themes evaluate --gold data/gold
  ofsted-themes evaluate --gold ../shared/gold/pdf-sample --input ../shared/corpus/pdf-sample/pypdf --min-f1 0.8
  ofsted-themes evaluate --gold data/gold --input data/reports --gold ../shared/gold/pdf-sample --input ../shared/corpus/pdf-sample/pdf")]
    Evaluate {
        /// Folder with findings.csv and metadata.csv; repeat it to score several gold sets as
        /// one, each with its own --input in the same order.
        #[arg(long, value_name = "DIR", required = true)]
        gold: Vec<PathBuf>,
        /// Folder holding the reports named in the gold files (default: the reports folder
        /// beside the gold folder).
        #[arg(long, value_name = "DIR")]
        input: Vec<PathBuf>,
        /// Codebook TOML file.
        #[arg(long, value_name = "FILE")]
        codebook: Option<PathBuf>,
        /// Stance lexicon TOML file.
        #[arg(long, value_name = "FILE")]
        lexicon: Option<PathBuf>,
        /// Where to write evaluation/*.csv (default: output/evaluation).
        #[arg(long, value_name = "DIR")]
        output: Option<PathBuf>,
        /// Exit with 1 when the macro F1 over the required themes is below X.
        #[arg(long, value_name = "X")]
        min_f1: Option<f64>,
    },
    /// Benchmark: the whole pipeline on a corpus repeated N times, beside ripgrep's raw scan.
    #[command(after_help = "Example:
  ofsted-themes bench --corpus ../shared/corpus/ofsted-csc --times 10 --work /tmp/ofsted-bench")]
    Bench {
        /// Folder of real reports to repeat.
        #[arg(long, value_name = "DIR")]
        corpus: PathBuf,
        /// How many copies of the folder.
        #[arg(long, default_value_t = 10)]
        times: usize,
        /// Scratch folder for the scale corpus and the outputs.
        #[arg(long, value_name = "DIR", default_value = "target/bench")]
        work: PathBuf,
        /// Worker threads (default: one per core).
        #[arg(long, value_name = "N", default_value_t = 0)]
        threads: usize,
        /// Runs of each side, taking turns; the fastest of each is reported.
        #[arg(long, value_name = "N", default_value_t = 3)]
        runs: usize,
    },
    /// Check or list a codebook.
    Codebook {
        #[command(subcommand)]
        action: CodebookAction,
    },
}

#[derive(Subcommand)]
enum CodebookAction {
    /// Validate a codebook and print every problem found.
    Check { file: PathBuf },
    /// List each theme with its rules as stems (the bundled codebook when no file is given).
    Show { file: Option<PathBuf> },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A PDF that makes the extractor panic is reported as unreadable in documents.csv; its
    // panic message would only be noise on stderr.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() != Some("pdf-extract") {
            default_hook(info);
        }
    }));
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run {
            pipeline,
            input,
            output,
            codebook,
            threads,
            parquet,
            quiet,
        } => {
            let settings = Settings::resolve(
                pipeline.as_deref(),
                Overrides {
                    input,
                    output,
                    codebook,
                    threads,
                    parquet,
                },
            )?;
            run_pipeline(&settings, quiet)
        }
        Command::Evaluate {
            gold,
            input,
            codebook,
            lexicon,
            output,
            min_f1,
        } => evaluate_cmd(gold, input, codebook, lexicon, output, min_f1),
        Command::Bench {
            corpus,
            times,
            work,
            threads,
            runs,
        } => {
            let res = Resources::load(None, None, None)?;
            ofsted_themes::bench::run(
                &ofsted_themes::bench::BenchOptions {
                    corpus,
                    times,
                    work,
                    threads,
                    runs,
                },
                &res,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Codebook { action } => match action {
            CodebookAction::Check { file } => {
                let book = Codebook::load(&file)?;
                println!(
                    "{}: ok, {} themes ({} required)",
                    file.display(),
                    book.themes.len(),
                    book.required_ids().len()
                );
                Ok(ExitCode::SUCCESS)
            }
            CodebookAction::Show { file } => {
                let book = match file {
                    Some(f) => Codebook::load(&f)?,
                    None => Codebook::parse(
                        pipeline::DEFAULT_CODEBOOK,
                        "data/codebook/default.toml (bundled)",
                    )?,
                };
                print!("{}", book.show());
                Ok(ExitCode::SUCCESS)
            }
        },
    }
}

fn progress_bar(quiet: bool) -> indicatif::ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(0);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {pos}/{len} reports [{elapsed_precise}] {wide_bar}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    pb
}

fn run_pipeline(settings: &Settings, quiet: bool) -> anyhow::Result<ExitCode> {
    let res = Resources::load(
        settings.codebook.as_deref(),
        settings.lexicon.as_deref(),
        settings.authorities.as_deref(),
    )?;
    let files = ofsted_themes::ingest::discover(&settings.input)?;
    let mut sink = report::Sink::new(settings, &res)?;
    let pb = progress_bar(quiet);
    let mut stats = pipeline::run_streaming(&files, settings.threads, &res, false, &pb, |d| {
        if !quiet && matches!(d.status, Status::Skipped | Status::Failed) {
            pb.suspend(|| eprintln!("{}: {}: {}", d.status, d.path.display(), d.message));
        }
        sink.add(d)
    })?;
    pb.finish_and_clear();
    sink.finish(&mut stats)?;
    if !quiet {
        eprintln!(
            "{} files: {} ok, {} duplicate, {} skipped, {} failed; outputs in {} ({:.2} s)",
            stats.files,
            stats.count(Status::Ok),
            stats.count(Status::Duplicate),
            stats.count(Status::Skipped),
            stats.count(Status::Failed),
            settings.output.display(),
            stats.wall.as_secs_f64()
        );
    }
    Ok(if stats.count(Status::Failed) > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn evaluate_cmd(
    gold_dirs: Vec<PathBuf>,
    inputs: Vec<PathBuf>,
    codebook: Option<PathBuf>,
    lexicon: Option<PathBuf>,
    output: Option<PathBuf>,
    min_f1: Option<f64>,
) -> anyhow::Result<ExitCode> {
    if !inputs.is_empty() && inputs.len() != gold_dirs.len() {
        anyhow::bail!(
            "{} --gold folders but {} --input folders: give one --input per --gold, in the same order, or none",
            gold_dirs.len(),
            inputs.len()
        );
    }
    let res = Resources::load(codebook.as_deref(), lexicon.as_deref(), None)?;
    let mut gold = evaluate::GoldSet::default();
    let mut run = Vec::new();
    for (k, gold_dir) in gold_dirs.iter().enumerate() {
        let set = evaluate::GoldSet::load(gold_dir)?;
        let input = match inputs.get(k) {
            Some(i) => i.clone(),
            None => {
                let sibling = gold_dir.join("..").join("reports");
                if !sibling.is_dir() {
                    anyhow::bail!(
                        "no reports folder for gold {}: pass --input DIR with the reports it names",
                        gold_dir.display()
                    );
                }
                sibling
            }
        };
        run.extend(evaluate_run::run(&set, &input, &res)?);
        gold.append(set)
            .map_err(|e| anyhow::anyhow!("{}: {e}", gold_dir.display()))?;
    }
    let themes = res.tagger.book.ids();
    let required = res.tagger.book.required_ids();
    let result = evaluate::evaluate(&gold, &run, &themes, &required);
    print!("{}", result.to_table());
    let out = output.unwrap_or_else(|| PathBuf::from("output/evaluation"));
    for (name, bytes) in result.write_csvs() {
        ofsted_themes::output::write_atomic(&out.join(name), &bytes)?;
    }
    eprintln!("evaluation tables written to {}", out.display());
    if let Some(min) = min_f1 {
        let got = result.required_macro_f1();
        if got < min {
            eprintln!("required-theme macro F1 {got:.4} is below --min-f1 {min:.4}");
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}
