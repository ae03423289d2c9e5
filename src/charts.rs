//! PNG charts for analysts' board papers: trend lines over inspection years,
//! authority-by-theme heatmaps and stacked stance bars.
//!
//! Every public function is pure: plain data in, PNG bytes out (the caller
//! writes the file). Drawing happens in an in-memory RGB buffer with the bundled
//! DejaVu Sans font, and the PNG is encoded here with fixed settings, so the same
//! input gives the same bytes on any machine and any thread. Empty input gives a
//! chart that says "No data to show" instead of an error.
//!
//! Colours are colour-blind safe: Okabe-Ito for lines and bars, a reversed
//! viridis scale for the heatmap (light = low, dark = high), with hatched grey
//! for cells that have no data.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::{LazyLock, OnceLock};

use ab_glyph::{Font, FontRef, ScaleFont};
use rustc_hash::FxHashMap;

use anyhow::{anyhow, Result};
use plotters::backend::{BitMapBackend, RGBPixel};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;
use plotters::style::{register_font, FontDesc, FontFamily, FontStyle, FontTransform};

/// One line on a trend chart.
pub struct Series {
    /// Name shown in the legend.
    pub label: String,
    /// `(year, value)` pairs in any order. Non-finite values are skipped; if a
    /// year appears twice, the first value given is used.
    pub points: Vec<(i32, f64)>,
}

// ---------------------------------------------------------------------------
// Fonts, sizes and palette
// ---------------------------------------------------------------------------

const REGULAR_FONT: &[u8] = include_bytes!("../data/fonts/DejaVuSans.ttf");
const BOLD_FONT: &[u8] = include_bytes!("../data/fonts/DejaVuSans-Bold.ttf");
const FONT_NAME: &str = "sans-serif";

/// Width of every chart in pixels.
const WIDTH: u32 = 1600;
/// Height of the line chart, and the minimum height of the other charts.
const BASE_HEIGHT: u32 = 900;
/// Upper bound on the height of charts that grow with their rows.
const MAX_HEIGHT: u32 = 4000;

const MARGIN: i32 = 40;
const TITLE_Y: i32 = 42;
const NO_DATA_TOP: i32 = TITLE_Y + 60;

const TITLE_PX: f64 = 34.0;
const AXIS_TITLE_PX: f64 = 24.0;
const TICK_PX: f64 = 22.0;
const LEGEND_PX: f64 = 22.0;
const NOTE_PX: f64 = 20.0;
const SMALL_PX: f64 = 20.0;
const CELL_PX: f64 = 17.0;
const NO_DATA_PX: f64 = 30.0;

const INK: RGBColor = RGBColor(33, 33, 33);
const MUTED: RGBColor = RGBColor(95, 95, 95);
const GRID: RGBColor = RGBColor(222, 222, 222);
const AXIS: RGBColor = RGBColor(110, 110, 110);
const EMPTY_YEAR: RGBColor = RGBColor(240, 240, 240);
const NO_DATA_FILL: RGBColor = RGBColor(238, 238, 238);
const NO_DATA_HATCH: RGBColor = RGBColor(160, 160, 160);
const BACKGROUND: RGBColor = RGBColor(255, 255, 255);

/// Okabe-Ito colours, ordered so that neighbouring series contrast well on white.
const OKABE_ITO: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(230, 159, 0),   // orange
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];
const STRENGTH: RGBColor = RGBColor(0, 158, 115);
const CONCERN: RGBColor = RGBColor(213, 94, 0);
const MIXED: RGBColor = RGBColor(230, 159, 0);
const NEUTRAL: RGBColor = RGBColor(153, 153, 153);

/// Viridis at nine evenly spaced stops, from 0 (dark purple) to 1 (yellow).
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 145, 140),
    (40, 174, 128),
    (94, 201, 98),
    (170, 220, 50),
    (253, 231, 37),
];

// Line chart layout.
const LINE_PLOT_TOP: i32 = 100;
const LINE_PLOT_BOTTOM_GAP: i32 = 140;
const LINE_LEGEND_WIDTH: i32 = 330;
const LINE_WIDTH_PX: u32 = 4;
const GAP_LINE_WIDTH_PX: u32 = 2;
const MARKER_RADIUS: i32 = 8;
const MAX_DODGE: usize = 8;
const LEGEND_SIZES: [f64; 3] = [LEGEND_PX, 20.0, 18.0];
const LEGEND_GAP: i32 = 10;
const LEGEND_OVERHANG: i32 = 70;
const DASH_PX: f64 = 10.0;
const DASH_GAP_PX: f64 = 8.0;

// Heatmap layout.
const HEAT_ROW_PX: i32 = 26;
const HEAT_MAX_ROWS: usize = 120;
const HEAT_MAX_COLS: usize = 60;
const HEAT_MAX_CELL_W: i32 = 110;
const HEAT_ROW_LABEL_MAX_W: i32 = 460;
const HEAT_HEADER_MAX_H: i32 = 300;
const HEAT_LEGEND_WIDTH: i32 = 170;
const HEAT_LEGEND_BAR_H: i32 = 300;
const HEAT_LEGEND_BAR_W: i32 = 30;
const HATCH_SPACING: i32 = 8;

// Stacked bar layout.
const BAR_MIN_HEIGHT: u32 = 450;
const BAR_MIN_PITCH: i32 = 34;
const BAR_MAX_PITCH: i32 = 64;
const BAR_FILL: f64 = 0.68;
const BAR_LABEL_MAX_W: i32 = 520;
const BAR_AXIS_GAP: i32 = 100;
const BAR_NOTE_GAP: i32 = 34;
const SWATCH_PX: i32 = 22;

type Canvas<'a> = DrawingArea<BitMapBackend<'a, RGBPixel>, Shift>;

/// A line-chart marker: pixel position and series index.
type Marker = ((i32, i32), usize);

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/// Draws a line chart of values over inspection years, 1600 x 900 px.
///
/// `reports_per_year` gives how many reports stand behind each year; it is
/// printed as "n=12" under each year label, and years without reports are
/// shaded. When `y_is_share` is true, values are fractions (0..=1) shown as
/// percentages. Consecutive years are joined by solid lines; points separated
/// by years without a value are joined by thin dashed lines, never drawn as
/// zero. Every point carries a marker, so a single year is still visible.
/// Series with no finite points are left out; if none remain the chart says
/// "No data to show".
pub fn line_chart(
    title: &str,
    y_label: &str,
    y_is_share: bool,
    reports_per_year: &[(i32, usize)],
    series: &[Series],
) -> Result<Vec<u8>> {
    ensure_fonts()?;
    let series = clean_series(series);
    render(WIDTH, BASE_HEIGHT, |canvas| {
        draw_title(canvas, title)?;
        if series.is_empty() {
            return draw_no_data(canvas, NO_DATA_TOP, WIDTH, BASE_HEIGHT);
        }
        draw_line_chart(canvas, y_label, y_is_share, reports_per_year, &series)
    })
}

/// Draws a heatmap of `values[row][col]` (0..=1, shown as percentages), 1600 px
/// wide and at least 900 px tall, growing by 26 px per row beyond what fits.
///
/// `None`, NaN and missing cells are drawn as hatched grey and listed in the
/// legend as "No data". Values outside 0..=1 are clamped. `note` is printed
/// under the title (for example "40 of 152 authorities shown; 112 left out").
/// Long row and column labels are wrapped or shortened with "…". At most 120
/// rows and 60 columns are drawn; the note then says so. Empty rows or columns
/// give a chart that says "No data to show".
pub fn heatmap(
    title: &str,
    rows: &[String],
    cols: &[String],
    values: &[Vec<Option<f64>>],
    note: &str,
) -> Result<Vec<u8>> {
    ensure_fonts()?;
    let layout = HeatLayout::new(rows, cols, note);
    render(WIDTH, layout.height, |canvas| {
        draw_title(canvas, title)?;
        if rows.is_empty() || cols.is_empty() {
            draw_note(canvas, &layout.note_lines)?;
            let top = NO_DATA_TOP
                + layout.note_lines.len() as i32 * line_height(txt(NOTE_PX, false, MUTED));
            return draw_no_data(canvas, top, WIDTH, layout.height);
        }
        draw_heatmap(canvas, &layout, rows, cols, values)
    })
}

/// Draws horizontal stacked bars, one per category, 1600 px wide. The height
/// fits the bars: 900 px for about 16 categories, less for fewer (at least
/// 450 px), more for many (up to 4000 px); the "no data" chart is 1600 x 900.
///
/// Each entry of `stacks` is `(name, values)` with one value per category;
/// stacks are laid left to right in the given order and listed in that order
/// in the legend above the bars. Stacks named strength, concern, mixed and
/// neutral get fixed colours (green, vermillion, orange, grey); others take
/// the next Okabe-Ito colour. Missing, negative or non-finite values count as
/// zero. Segment values are printed inside segments wide enough to hold them,
/// and each bar's total at its end. Empty categories or stacks give a chart
/// that says "No data to show".
pub fn stacked_bars(
    title: &str,
    x_label: &str,
    categories: &[String],
    stacks: &[(String, Vec<f64>)],
) -> Result<Vec<u8>> {
    ensure_fonts()?;
    let layout = BarLayout::new(categories, stacks);
    render(WIDTH, layout.height, |canvas| {
        draw_title(canvas, title)?;
        if categories.is_empty() || stacks.is_empty() {
            return draw_no_data(canvas, NO_DATA_TOP, WIDTH, layout.height);
        }
        draw_stacked_bars(canvas, &layout, x_label, categories, stacks)
    })
}

// ---------------------------------------------------------------------------
// Rendering and encoding
// ---------------------------------------------------------------------------

/// Registers the bundled fonts once per process. Must run before any text is
/// measured, since layouts depend on text widths.
fn ensure_fonts() -> Result<()> {
    static READY: OnceLock<bool> = OnceLock::new();
    let ready = *READY.get_or_init(|| {
        register_font(FONT_NAME, FontStyle::Normal, REGULAR_FONT).is_ok()
            && register_font(FONT_NAME, FontStyle::Bold, BOLD_FONT).is_ok()
            && FACES.is_some()
    });
    if ready {
        Ok(())
    } else {
        Err(anyhow!("the bundled DejaVu Sans font could not be loaded"))
    }
}

/// Draws into a white RGB buffer of the given size and returns it as PNG bytes.
fn render(
    width: u32,
    height: u32,
    draw: impl FnOnce(&Canvas<'_>) -> Result<()>,
) -> Result<Vec<u8>> {
    ensure_fonts()?;
    let len = (width as usize) * (height as usize) * 3;
    // The buffer starts as the background colour, so the canvas needs no fill.
    let RGBColor(r, g, b) = BACKGROUND;
    let mut buffer = [r, g, b].repeat(len / 3);
    {
        let backend =
            BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut buffer, (width, height))
                .map_err(|e| anyhow!("could not set up the chart buffer: {e}"))?;
        let canvas = backend.into_drawing_area();
        draw(&canvas)?;
        canvas.present()?;
    }
    encode_png(&buffer, width, height)
}

/// zlib level of the chart images: level 2 (greedy matching) encodes in about three quarters
/// of the time of level 3 for files about 3 per cent larger.
const PNG_LEVEL: u8 = 2;

/// Encodes an 8-bit RGB buffer as PNG with fixed settings (no timestamps).
fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        // Charts are flat colour on white: unfiltered rows compress as well as filtered ones,
        // and deflate level [`PNG_LEVEL`] is much faster than the default for a few per cent more.
        encoder.set_filter(png::Filter::NoFilter);
        encoder.set_deflate_compression(png::DeflateCompression::Level(PNG_LEVEL));
        let mut writer = encoder.write_header()?;
        writer.write_image_data(rgb)?;
        writer.finish()?;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------

/// Size, weight and colour of a piece of text.
#[derive(Clone, Copy)]
struct Txt {
    size: f64,
    bold: bool,
    color: RGBColor,
}

const fn txt(size: f64, bold: bool, color: RGBColor) -> Txt {
    Txt { size, bold, color }
}

fn font(t: Txt) -> FontDesc<'static> {
    let style = if t.bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    FontDesc::new(FontFamily::Name(FONT_NAME), t.size, style)
}

/// Width of `text` in pixels when drawn with `t`.
fn text_width(text: &str, t: Txt) -> i32 {
    match font(t).box_size(text) {
        Ok((w, _)) => i32::try_from(w).unwrap_or(i32::MAX),
        Err(_) => (text.chars().count() as f64 * t.size * 0.6) as i32,
    }
}

/// Offset that puts the visual middle of capital letters on the anchor line.
fn centre_shift(t: Txt) -> i32 {
    (t.size * 0.27).round() as i32
}

/// Draws one line of horizontal text whose middle sits at `y_mid`.
fn draw_text(
    canvas: &Canvas<'_>,
    text: &str,
    (x, y_mid): (i32, i32),
    t: Txt,
    h: HPos,
) -> Result<()> {
    draw_glyphs(
        canvas,
        text,
        (x, y_mid + centre_shift(t)),
        t,
        h,
        FontTransform::None,
    )
}

/// Draws one line of text reading upwards, centred on `x_mid`, anchored at `y`
/// according to `h` (Left: starts at `y`; Center: centred on `y`).
fn draw_text_up(
    canvas: &Canvas<'_>,
    text: &str,
    (x_mid, y): (i32, i32),
    t: Txt,
    h: HPos,
) -> Result<()> {
    draw_glyphs(
        canvas,
        text,
        (x_mid + centre_shift(t), y),
        t,
        h,
        FontTransform::Rotate270,
    )
}

/// The bundled faces, regular and bold, as the glyph rasteriser reads them.
static FACES: LazyLock<Option<[FontRef<'static>; 2]>> = LazyLock::new(|| {
    Some([
        FontRef::try_from_slice(REGULAR_FONT).ok()?,
        FontRef::try_from_slice(BOLD_FONT).ok()?,
    ])
});

/// One glyph rasterised at the origin: each pixel it covers (already moved down by the
/// glyph's vertical shift) and its coverage.
struct GlyphMask {
    pixels: Vec<(i32, i32, f32)>,
}

/// Key of a rasterised glyph: bold or not, the pixel size's bits, the character.
type GlyphKey = (bool, u64, char);

thread_local! {
    /// Glyphs rasterised on this thread. Chart text repeats from chart to chart (years,
    /// theme names, axis titles), and a glyph's pixels depend only on its face, size and
    /// character, so each is rasterised once.
    static GLYPHS: RefCell<FxHashMap<GlyphKey, GlyphMask>> = RefCell::new(FxHashMap::default());
}

/// Draws `text` at `pos` pixel for pixel as plotters' own text drawing does (same layout,
/// anchor, rotation and blending), with each glyph's coverage taken from [`GLYPHS`].
fn draw_glyphs(
    canvas: &Canvas<'_>,
    text: &str,
    pos: (i32, i32),
    t: Txt,
    h: HPos,
    trans: FontTransform,
) -> Result<()> {
    if text.is_empty() {
        return Ok(());
    }
    let faces = FACES
        .as_ref()
        .ok_or_else(|| anyhow!("the bundled DejaVu Sans font could not be loaded"))?;
    let font = faces[usize::from(t.bold)].as_scaled(t.size as f32);
    let ((min_x, min_y), (max_x, max_y)) = font_layout(&font, t.size, text);
    let (width, height) = (max_x - min_x, max_y - min_y);
    let dx = match h {
        HPos::Left => 0,
        HPos::Right => -width,
        HPos::Center => -width / 2,
    };
    let dy = -height / 2;
    let RGBColor(r, g, b) = t.color;
    GLYPHS.with(|cache| -> Result<()> {
        let mut cache = cache.borrow_mut();
        for c in text.chars() {
            cache
                .entry((t.bold, t.size.to_bits(), c))
                .or_insert_with(|| rasterise(&font, t.size, c));
        }
        let mut x_shift = 0f32;
        let mut prev = None;
        for c in text.chars() {
            if let Some(pc) = prev {
                x_shift += font.kern(font.glyph_id(pc), font.glyph_id(c));
            }
            prev = Some(c);
            let shift = x_shift as i32;
            for &(gx, gy, cover) in &cache[&(t.bold, t.size.to_bits(), c)].pixels {
                let (x, y) = trans.transform(gx + shift + dx - min_x, gy + dy - min_y);
                // The backend drops pixels outside the image, as it does for plotters' text.
                let point = (pos.0 + x, pos.1 + y);
                canvas.draw_pixel(point, &RGBAColor(r, g, b, f64::from(cover)))?;
            }
            x_shift += font.h_advance(font.glyph_id(c));
        }
        Ok(())
    })
}

/// The layout box plotters gives `text`: its advance width and the em height. Computed here
/// rather than through plotters' `layout_box`, which builds a font handle on every call (a
/// seventh of the text drawing's time); the glyph test holds the two together.
fn font_layout<F: Font>(
    font: &ab_glyph::PxScaleFont<&F>,
    size: f64,
    text: &str,
) -> ((i32, i32), (i32, i32)) {
    let mut x_pixels = 0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        x_pixels += font.h_advance(id);
        if let Some(pc) = prev {
            x_pixels += font.kern(pc, id);
        }
        prev = Some(id);
    }
    ((0, 0), (x_pixels as i32, (size / 1.24) as i32))
}

/// One glyph's pixels at the origin, as plotters places them: moved down by half the size
/// plus the top of its pixel bounds.
fn rasterise<F: Font>(font: &ab_glyph::PxScaleFont<&F>, size: f64, c: char) -> GlyphMask {
    let mut pixels = Vec::new();
    if let Some(q) = font.outline_glyph(font.scaled_glyph(c)) {
        let y_shift = ((size as f32) / 2.0 + q.px_bounds().min.y) as i32;
        q.draw(|x, y, cover| {
            if cover > 0.0 {
                pixels.push((x as i32, y as i32 + y_shift, cover));
            }
        });
    }
    GlyphMask { pixels }
}

/// Shortens `text` with a trailing "…" so it fits in `max_w` pixels.
fn ellipsize(text: &str, t: Txt, max_w: i32) -> String {
    if text_width(text, t) <= max_w {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let shortened = |n: usize| format!("{}…", chars[..n].iter().collect::<String>().trim_end());
    let (mut lo, mut hi) = (0usize, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if text_width(&shortened(mid), t) <= max_w {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    shortened(lo)
}

/// Wraps `text` on spaces into at most `max_lines` lines of `max_w` pixels;
/// the last line is shortened with "…" if the text does not fit.
fn wrap(text: &str, t: Txt, max_w: i32, max_lines: usize) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut lines = Vec::new();
    let mut start = 0;
    while start < words.len() {
        if lines.len() + 1 >= max_lines.max(1) {
            lines.push(ellipsize(&words[start..].join(" "), t, max_w));
            break;
        }
        let mut end = start + 1;
        while end < words.len() && text_width(&words[start..=end].join(" "), t) <= max_w {
            end += 1;
        }
        lines.push(ellipsize(&words[start..end].join(" "), t, max_w));
        start = end;
    }
    lines
}

fn line_height(t: Txt) -> i32 {
    (t.size * 1.25).round() as i32
}

fn draw_title(canvas: &Canvas<'_>, title: &str) -> Result<()> {
    let t = txt(TITLE_PX, true, INK);
    let line = ellipsize(title.trim(), t, WIDTH as i32 - 2 * MARGIN);
    draw_text(canvas, &line, (MARGIN, TITLE_Y), t, HPos::Left)
}

/// Draws a framed "No data to show" message below `top`.
fn draw_no_data(canvas: &Canvas<'_>, top: i32, width: u32, height: u32) -> Result<()> {
    let (w, h) = (width as i32, height as i32);
    let frame = [(MARGIN, top), (w - MARGIN, h - MARGIN)];
    canvas.draw(&Rectangle::new(frame, GRID.stroke_width(2)))?;
    let t = txt(NO_DATA_PX, false, MUTED);
    draw_text(
        canvas,
        "No data to show",
        (w / 2, (top + h - MARGIN) / 2),
        t,
        HPos::Center,
    )
}

// ---------------------------------------------------------------------------
// Number formatting and scales
// ---------------------------------------------------------------------------

fn is_whole(v: f64) -> bool {
    (v - v.round()).abs() < 1e-9
}

fn fmt_num(v: f64) -> String {
    if is_whole(v) {
        format!("{}", v.round() as i64)
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn fmt_pct(v: f64) -> String {
    let p = v * 100.0;
    if (p - p.round()).abs() < 1e-6 {
        format!("{}%", p.round() as i64)
    } else {
        format!("{p:.1}%")
    }
}

/// A "nice" tick step (1, 2, 2.5 or 5 times a power of ten) for a range.
fn nice_step(range: f64, target_ticks: usize) -> f64 {
    let raw = range / target_ticks.max(1) as f64;
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let norm = raw / magnitude;
    let factor = match norm {
        n if n <= 1.0 => 1.0,
        n if n <= 2.0 => 2.0,
        n if n <= 2.5 => 2.5,
        n if n <= 5.0 => 5.0,
        _ => 10.0,
    };
    factor * magnitude
}

/// A value axis: lowest and highest value shown and the tick step.
#[derive(Clone, Copy)]
struct Scale {
    lo: f64,
    hi: f64,
    step: f64,
}

impl Scale {
    fn new(min: f64, max: f64, target_ticks: usize, whole_steps: bool) -> Self {
        let lo0 = min.min(0.0);
        let hi0 = if max > lo0 { max } else { lo0 + 1.0 };
        let mut step = nice_step(hi0 - lo0, target_ticks);
        if whole_steps {
            step = step.max(1.0);
        }
        let lo = (lo0 / step).floor() * step;
        let hi = ((hi0 / step).ceil() * step).max(lo + step);
        Scale { lo, hi, step }
    }

    fn ticks(&self) -> Vec<f64> {
        (0..=100)
            .map(|k| self.lo + k as f64 * self.step)
            .take_while(|v| *v <= self.hi + self.step * 1e-6)
            .collect()
    }

    fn fraction(&self, v: f64) -> f64 {
        (v - self.lo) / (self.hi - self.lo)
    }
}

// ---------------------------------------------------------------------------
// Line chart
// ---------------------------------------------------------------------------

/// A series with its points sorted by year, one per year, all finite.
struct CleanSeries {
    label: String,
    points: Vec<(i32, f64)>,
}

fn clean_series(series: &[Series]) -> Vec<CleanSeries> {
    series
        .iter()
        .map(|s| {
            let mut points: Vec<(i32, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|(_, v)| v.is_finite())
                .collect();
            points.sort_by_key(|(year, _)| *year);
            points.dedup_by_key(|(year, _)| *year);
            CleanSeries {
                label: s.label.clone(),
                points,
            }
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

/// Pixel geometry of the line chart's plot area.
struct LineFrame {
    left: i32,
    right: i32,
    top: i32,
    bottom: i32,
    first_year: i32,
    last_year: i32,
    scale: Scale,
}

impl LineFrame {
    fn x(&self, year: f64) -> f64 {
        let slots = f64::from(self.last_year) - f64::from(self.first_year) + 1.0;
        let offset = year - f64::from(self.first_year) + 0.5;
        f64::from(self.left) + offset / slots * f64::from(self.right - self.left)
    }

    fn y(&self, v: f64) -> f64 {
        f64::from(self.bottom) - self.scale.fraction(v) * f64::from(self.bottom - self.top)
    }

    fn px(&self, year: i32, v: f64) -> (i32, i32) {
        (
            self.x(f64::from(year)).round() as i32,
            self.y(v).round() as i32,
        )
    }

    fn year_px(&self) -> f64 {
        let slots = f64::from(self.last_year) - f64::from(self.first_year) + 1.0;
        f64::from(self.right - self.left) / slots
    }
}

fn draw_line_chart(
    canvas: &Canvas<'_>,
    y_label: &str,
    y_is_share: bool,
    reports_per_year: &[(i32, usize)],
    series: &[CleanSeries],
) -> Result<()> {
    let frame = line_frame(y_is_share, reports_per_year, series);
    let n_by_year = |year: i32| -> usize {
        reports_per_year
            .iter()
            .filter(|(y, _)| *y == year)
            .map(|(_, n)| *n)
            .sum()
    };
    let shaded = draw_empty_years(canvas, &frame, &n_by_year)?;
    draw_value_axis(canvas, &frame, y_label, y_is_share)?;
    draw_year_axis(canvas, &frame, &n_by_year)?;
    let gaps = series
        .iter()
        .any(|s| s.points.windows(2).any(|w| year_gap(w[0].0, w[1].0) > 1));
    for (i, s) in series.iter().enumerate() {
        draw_series_lines(canvas, &frame, s, series_colour(i))?;
    }
    for (at, i) in dodged_markers(&frame, series) {
        draw_marker(canvas, at, i)?;
    }
    draw_line_legend(canvas, &frame, series)?;
    draw_line_footnote(canvas, shaded, gaps)
}

fn line_frame(
    y_is_share: bool,
    reports_per_year: &[(i32, usize)],
    series: &[CleanSeries],
) -> LineFrame {
    let years = series
        .iter()
        .flat_map(|s| s.points.iter().map(|(y, _)| *y))
        .chain(reports_per_year.iter().map(|(y, _)| *y));
    let first_year = years.clone().min().unwrap_or(0);
    let last_year = years.max().unwrap_or(0);
    let values = series.iter().flat_map(|s| s.points.iter().map(|(_, v)| *v));
    let min = values.clone().fold(0.0f64, f64::min);
    let max = values.fold(f64::NEG_INFINITY, f64::max);
    let headroom = if max > 0.0 { max * 1.06 } else { max };
    let mut scale = Scale::new(min, headroom, 5, false);
    if y_is_share && scale.lo >= 0.0 && max <= 1.0 {
        scale.hi = scale.hi.min(1.0);
    }
    let tick_w = scale
        .ticks()
        .iter()
        .map(|v| text_width(&value_label(*v, y_is_share), txt(TICK_PX, false, INK)))
        .max()
        .unwrap_or(0);
    LineFrame {
        left: MARGIN + 44 + tick_w + 14,
        right: WIDTH as i32 - MARGIN - LINE_LEGEND_WIDTH,
        top: LINE_PLOT_TOP,
        bottom: BASE_HEIGHT as i32 - LINE_PLOT_BOTTOM_GAP,
        first_year,
        last_year,
        scale,
    }
}

fn value_label(v: f64, share: bool) -> String {
    if share {
        fmt_pct(v)
    } else {
        fmt_num(v)
    }
}

/// Shades years that have no reports; returns whether any were shaded.
fn draw_empty_years(
    canvas: &Canvas<'_>,
    frame: &LineFrame,
    n_by_year: &dyn Fn(i32) -> usize,
) -> Result<bool> {
    if frame.year_px() < 2.0 {
        return Ok(false);
    }
    let mut any = false;
    for year in frame.first_year..=frame.last_year {
        if n_by_year(year) > 0 {
            continue;
        }
        any = true;
        let x0 = frame.x(f64::from(year) - 0.5).round() as i32;
        let x1 = frame.x(f64::from(year) + 0.5).round() as i32;
        canvas.draw(&Rectangle::new(
            [(x0, frame.top), (x1, frame.bottom)],
            EMPTY_YEAR.filled(),
        ))?;
    }
    Ok(any)
}

fn draw_value_axis(
    canvas: &Canvas<'_>,
    frame: &LineFrame,
    y_label: &str,
    share: bool,
) -> Result<()> {
    let tick = txt(TICK_PX, false, INK);
    for v in frame.scale.ticks() {
        let y = frame.y(v).round() as i32;
        let colour = if v == 0.0 { AXIS } else { GRID };
        canvas.draw(&PathElement::new(
            vec![(frame.left, y), (frame.right, y)],
            colour.stroke_width(1),
        ))?;
        draw_text(
            canvas,
            &value_label(v, share),
            (frame.left - 12, y),
            tick,
            HPos::Right,
        )?;
    }
    let bottom_y = frame.bottom;
    canvas.draw(&PathElement::new(
        vec![(frame.left, bottom_y), (frame.right, bottom_y)],
        AXIS.stroke_width(2),
    ))?;
    let t = txt(AXIS_TITLE_PX, false, INK);
    let label = ellipsize(y_label.trim(), t, frame.bottom - frame.top);
    draw_text_up(
        canvas,
        &label,
        (MARGIN + 12, (frame.top + frame.bottom) / 2),
        t,
        HPos::Center,
    )
}

fn draw_year_axis(
    canvas: &Canvas<'_>,
    frame: &LineFrame,
    n_by_year: &dyn Fn(i32) -> usize,
) -> Result<()> {
    let year_t = txt(TICK_PX, false, INK);
    let n_t = txt(SMALL_PX, false, MUTED);
    let need = text_width("2000", year_t).max(text_width("n=888", n_t)) + 14;
    let every = (f64::from(need) / frame.year_px()).ceil().max(1.0) as i64;
    let span = i64::from(frame.last_year) - i64::from(frame.first_year);
    let mut k = 0i64;
    while k <= span {
        let year = (i64::from(frame.first_year) + k) as i32;
        let x = frame.x(f64::from(year)).round() as i32;
        canvas.draw(&PathElement::new(
            vec![(x, frame.bottom), (x, frame.bottom + 8)],
            AXIS.stroke_width(2),
        ))?;
        draw_text(
            canvas,
            &year.to_string(),
            (x, frame.bottom + 28),
            year_t,
            HPos::Center,
        )?;
        let n_label = format!("n={}", n_by_year(year));
        draw_text(canvas, &n_label, (x, frame.bottom + 58), n_t, HPos::Center)?;
        k += every;
    }
    Ok(())
}

/// Marker positions with series index; markers that would sit on top of each
/// other in the same year are spread sideways so each stays visible.
fn dodged_markers(frame: &LineFrame, series: &[CleanSeries]) -> Vec<Marker> {
    let mut by_year: BTreeMap<i32, Vec<Marker>> = BTreeMap::new();
    for (i, s) in series.iter().enumerate() {
        for &(year, v) in &s.points {
            by_year
                .entry(year)
                .or_default()
                .push((frame.px(year, v), i));
        }
    }
    let spacing = 2 * MARKER_RADIUS + 3;
    let mut out = Vec::new();
    for group in by_year.values() {
        for &((x, y), i) in group {
            let close: Vec<usize> = group
                .iter()
                .filter(|((_, y2), _)| y2.abs_diff(y) < MARKER_RADIUS.unsigned_abs())
                .map(|(_, j)| *j)
                .collect();
            let offset = if close.len() > MAX_DODGE {
                0
            } else {
                let rank = close.iter().position(|j| *j == i).unwrap_or(0) as i32;
                rank * spacing - (close.len() as i32 - 1) * spacing / 2
            };
            out.push(((x.saturating_add(offset), y), i));
        }
    }
    out
}

fn year_gap(from: i32, to: i32) -> i64 {
    i64::from(to) - i64::from(from)
}

fn series_colour(i: usize) -> RGBColor {
    OKABE_ITO[i % OKABE_ITO.len()]
}

/// Marker shape for series `i`; shapes shift after each full colour cycle so
/// that no two of the first 32 series share colour and shape.
fn marker_shape(i: usize) -> usize {
    (i + i / OKABE_ITO.len()) % 4
}

fn draw_series_lines(
    canvas: &Canvas<'_>,
    frame: &LineFrame,
    s: &CleanSeries,
    colour: RGBColor,
) -> Result<()> {
    let mut run: Vec<(i32, i32)> = Vec::new();
    let mut prev: Option<(i32, f64)> = None;
    for &(year, v) in &s.points {
        let here = frame.px(year, v);
        if let Some((py, pv)) = prev {
            if year_gap(py, year) > 1 {
                flush_run(canvas, &mut run, colour)?;
                draw_dashed(canvas, frame.px(py, pv), here, colour)?;
            }
        }
        run.push(here);
        prev = Some((year, v));
    }
    flush_run(canvas, &mut run, colour)
}

fn flush_run(canvas: &Canvas<'_>, run: &mut Vec<(i32, i32)>, colour: RGBColor) -> Result<()> {
    if run.len() > 1 {
        canvas.draw(&PathElement::new(
            run.clone(),
            colour.stroke_width(LINE_WIDTH_PX),
        ))?;
    }
    run.clear();
    Ok(())
}

fn draw_dashed(canvas: &Canvas<'_>, a: (i32, i32), b: (i32, i32), colour: RGBColor) -> Result<()> {
    let dx = f64::from(b.0) - f64::from(a.0);
    let dy = f64::from(b.1) - f64::from(a.1);
    let len = (dx * dx + dy * dy).sqrt();
    if len < 1.0 {
        return Ok(());
    }
    let at = |d: f64| {
        let f = d / len;
        (
            (f64::from(a.0) + dx * f).round() as i32,
            (f64::from(a.1) + dy * f).round() as i32,
        )
    };
    let mut d = 0.0;
    while d < len {
        let end = (d + DASH_PX).min(len);
        canvas.draw(&PathElement::new(
            vec![at(d), at(end)],
            colour.stroke_width(GAP_LINE_WIDTH_PX),
        ))?;
        d = end + DASH_GAP_PX;
    }
    Ok(())
}

/// Outline of a marker as a polygon (circles are drawn separately).
fn marker_polygon(shape: usize, (x, y): (i32, i32), r: i32) -> Vec<(i32, i32)> {
    match shape {
        1 => vec![
            (x - r + 1, y - r + 1),
            (x + r - 1, y - r + 1),
            (x + r - 1, y + r - 1),
            (x - r + 1, y + r - 1),
        ],
        2 => vec![
            (x, y - r - 1),
            (x + r + 1, y + r - 1),
            (x - r - 1, y + r - 1),
        ],
        _ => vec![
            (x, y - r - 1),
            (x + r + 1, y),
            (x, y + r + 1),
            (x - r - 1, y),
        ],
    }
}

fn draw_marker_shape(
    canvas: &Canvas<'_>,
    at: (i32, i32),
    shape: usize,
    r: i32,
    colour: RGBColor,
) -> Result<()> {
    if shape == 0 {
        canvas.draw(&Circle::new(at, r, colour.filled()))?;
    } else {
        canvas.draw(&Polygon::new(marker_polygon(shape, at, r), colour.filled()))?;
    }
    Ok(())
}

/// Draws series `i`'s marker with a white halo so overlapping points stay apart.
fn draw_marker(canvas: &Canvas<'_>, at: (i32, i32), i: usize) -> Result<()> {
    let shape = marker_shape(i);
    let colour = series_colour(i);
    let halo = if luminance(colour) > 0.6 {
        AXIS
    } else {
        BACKGROUND
    };
    draw_marker_shape(canvas, at, shape, MARKER_RADIUS + 2, halo)?;
    draw_marker_shape(canvas, at, shape, MARKER_RADIUS, colour)
}

fn draw_line_legend(canvas: &Canvas<'_>, frame: &LineFrame, series: &[CleanSeries]) -> Result<()> {
    let x0 = frame.right + 36;
    let label_x = x0 + 62;
    let label_w = WIDTH as i32 - MARGIN - label_x;
    let limit = frame.bottom + LEGEND_OVERHANG;
    let (t, max_lines) = legend_text(series, label_w, limit - frame.top);
    let lh = line_height(t);
    let mut y = frame.top + lh / 2;
    for (i, s) in series.iter().enumerate() {
        let remaining = series.len() - i;
        if remaining > 1 && y + lh + LEGEND_GAP + lh / 2 > limit {
            let more = format!("+ {remaining} more");
            return draw_text(
                canvas,
                &more,
                (label_x, y),
                txt(t.size, false, MUTED),
                HPos::Left,
            );
        }
        let colour = series_colour(i);
        canvas.draw(&PathElement::new(
            vec![(x0, y), (x0 + 48, y)],
            colour.stroke_width(LINE_WIDTH_PX),
        ))?;
        draw_marker(canvas, (x0 + 24, y), i)?;
        let lines = wrap(&s.label, t, label_w, max_lines);
        for (k, line) in lines.iter().enumerate() {
            draw_text(canvas, line, (label_x, y + k as i32 * lh), t, HPos::Left)?;
        }
        y += lines.len().max(1) as i32 * lh + LEGEND_GAP;
    }
    Ok(())
}

/// The largest legend text size (and whether labels may wrap to two lines)
/// that lets every legend entry fit in `room` pixels of height.
fn legend_text(series: &[CleanSeries], label_w: i32, room: i32) -> (Txt, usize) {
    for size in LEGEND_SIZES {
        let t = txt(size, false, INK);
        let needed: i32 = series
            .iter()
            .map(|s| {
                wrap(&s.label, t, label_w, 2).len().max(1) as i32 * line_height(t) + LEGEND_GAP
            })
            .sum();
        if needed <= room {
            return (t, 2);
        }
    }
    (txt(LEGEND_SIZES[LEGEND_SIZES.len() - 1], false, INK), 1)
}

fn draw_line_footnote(canvas: &Canvas<'_>, shaded: bool, gaps: bool) -> Result<()> {
    let mut parts = vec!["n = reports behind each year's points."];
    if gaps {
        parts.push("Dashed lines join points across years with no value.");
    }
    if shaded {
        parts.push("Shaded years have no reports.");
    }
    let t = txt(NOTE_PX, false, MUTED);
    let line = ellipsize(&parts.join(" "), t, WIDTH as i32 - 2 * MARGIN);
    draw_text(
        canvas,
        &line,
        (MARGIN, BASE_HEIGHT as i32 - 28),
        t,
        HPos::Left,
    )
}

// ---------------------------------------------------------------------------
// Heatmap
// ---------------------------------------------------------------------------

/// Pixel geometry of the heatmap, worked out before drawing.
struct HeatLayout {
    height: u32,
    note_lines: Vec<String>,
    shown_rows: usize,
    shown_cols: usize,
    grid_left: i32,
    grid_top: i32,
    cell_w: i32,
    row_label_w: i32,
    header_t: Txt,
    header_lines: usize,
}

impl HeatLayout {
    fn new(rows: &[String], cols: &[String], note: &str) -> Self {
        let shown_rows = rows.len().min(HEAT_MAX_ROWS);
        let shown_cols = cols.len().min(HEAT_MAX_COLS);
        let note = heat_note(note, rows.len(), cols.len(), shown_rows, shown_cols);
        let note_t = txt(NOTE_PX, false, MUTED);
        let note_lines = wrap(&note, note_t, WIDTH as i32 - 2 * MARGIN, 2);
        let header_top = TITLE_Y + 36 + note_lines.len() as i32 * line_height(note_t) + 10;

        let row_t = txt(SMALL_PX, false, INK);
        let widest_row = rows[..shown_rows]
            .iter()
            .map(|r| text_width(r, row_t))
            .max()
            .unwrap_or(0);
        let row_label_w = widest_row.min(HEAT_ROW_LABEL_MAX_W);
        let grid_left = MARGIN + row_label_w + 12;
        let grid_room = WIDTH as i32 - MARGIN - HEAT_LEGEND_WIDTH - 30 - grid_left;
        let cell_w = (grid_room / shown_cols.max(1) as i32).clamp(1, HEAT_MAX_CELL_W);

        let header_size = (f64::from(cell_w) * 0.75).clamp(10.0, SMALL_PX);
        let header_t = txt(header_size, false, INK);
        let header_lines = if cell_w >= 2 * line_height(header_t) + 6 {
            2
        } else {
            1
        };
        let header_h = cols[..shown_cols]
            .iter()
            .flat_map(|c| wrap(c, header_t, HEAT_HEADER_MAX_H, header_lines))
            .map(|l| text_width(&l, header_t))
            .max()
            .unwrap_or(0)
            + 16;
        let grid_top = header_top + header_h;
        let body = (shown_rows as i32 * HEAT_ROW_PX).max(HEAT_LEGEND_BAR_H + 110);
        let height = u32::try_from(grid_top + body + MARGIN)
            .unwrap_or(MAX_HEIGHT)
            .clamp(BASE_HEIGHT, MAX_HEIGHT);
        HeatLayout {
            height,
            note_lines,
            shown_rows,
            shown_cols,
            grid_left,
            grid_top,
            cell_w,
            row_label_w,
            header_t,
            header_lines,
        }
    }

    fn cell(&self, r: usize, c: usize) -> (i32, i32, i32, i32) {
        let x0 = self.grid_left + c as i32 * self.cell_w;
        let y0 = self.grid_top + r as i32 * HEAT_ROW_PX;
        (x0, y0, x0 + self.cell_w, y0 + HEAT_ROW_PX)
    }

    fn grid_right(&self) -> i32 {
        self.grid_left + self.shown_cols as i32 * self.cell_w
    }
}

fn heat_note(note: &str, rows: usize, cols: usize, shown_rows: usize, shown_cols: usize) -> String {
    let mut note = note.trim().to_string();
    if shown_rows < rows {
        note.push_str(&format!(
            "{}only the first {shown_rows} rows are drawn.",
            sep(&note)
        ));
    }
    if shown_cols < cols {
        note.push_str(&format!(
            "{}only the first {shown_cols} columns are drawn.",
            sep(&note)
        ));
    }
    note
}

fn sep(text: &str) -> &'static str {
    if text.is_empty() {
        ""
    } else {
        "; "
    }
}

fn draw_note(canvas: &Canvas<'_>, lines: &[String]) -> Result<()> {
    let t = txt(NOTE_PX, false, MUTED);
    for (k, line) in lines.iter().enumerate() {
        draw_text(
            canvas,
            line,
            (MARGIN, TITLE_Y + 44 + k as i32 * line_height(t)),
            t,
            HPos::Left,
        )?;
    }
    Ok(())
}

fn draw_heatmap(
    canvas: &Canvas<'_>,
    layout: &HeatLayout,
    rows: &[String],
    cols: &[String],
    values: &[Vec<Option<f64>>],
) -> Result<()> {
    draw_note(canvas, &layout.note_lines)?;
    draw_column_headers(canvas, layout, cols)?;
    let row_t = txt(SMALL_PX, false, INK);
    for (r, name) in rows.iter().take(layout.shown_rows).enumerate() {
        let (_, y0, _, y1) = layout.cell(r, 0);
        let label = ellipsize(name.trim(), row_t, layout.row_label_w);
        draw_text(
            canvas,
            &label,
            (layout.grid_left - 10, (y0 + y1) / 2),
            row_t,
            HPos::Right,
        )?;
        for c in 0..layout.shown_cols {
            let value = values.get(r).and_then(|row| row.get(c)).copied().flatten();
            draw_cell(canvas, layout.cell(r, c), value.filter(|v| v.is_finite()))?;
        }
    }
    draw_heat_legend(canvas, layout)
}

fn draw_column_headers(canvas: &Canvas<'_>, layout: &HeatLayout, cols: &[String]) -> Result<()> {
    let t = layout.header_t;
    let lh = line_height(t);
    for (c, name) in cols.iter().take(layout.shown_cols).enumerate() {
        let (x0, _, x1, _) = layout.cell(0, c);
        let lines = wrap(name, t, HEAT_HEADER_MAX_H, layout.header_lines);
        let first_x = (x0 + x1) / 2 - (lines.len() as i32 - 1) * lh / 2;
        for (k, line) in lines.iter().enumerate() {
            draw_text_up(
                canvas,
                line,
                (first_x + k as i32 * lh, layout.grid_top - 10),
                t,
                HPos::Left,
            )?;
        }
    }
    Ok(())
}

/// Colour for a value in 0..=1 on reversed viridis (light = low, dark = high).
fn heat_colour(v: f64) -> RGBColor {
    let pos = (1.0 - v.clamp(0.0, 1.0)) * (VIRIDIS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(VIRIDIS.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |p: u8, q: u8| (f64::from(p) + (f64::from(q) - f64::from(p)) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// WCAG relative luminance of an sRGB colour.
fn luminance(c: RGBColor) -> f64 {
    let lin = |u: u8| {
        let v = f64::from(u) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2)
}

/// White or dark ink, whichever contrasts more with `fill`.
fn text_colour_on(fill: RGBColor) -> RGBColor {
    let l = luminance(fill);
    let against_white = (luminance(BACKGROUND) + 0.05) / (l + 0.05);
    let against_ink = (l + 0.05) / (luminance(INK) + 0.05);
    if against_white > against_ink {
        BACKGROUND
    } else {
        INK
    }
}

fn draw_cell(
    canvas: &Canvas<'_>,
    (x0, y0, x1, y1): (i32, i32, i32, i32),
    value: Option<f64>,
) -> Result<()> {
    let inner = [(x0 + 1, y0 + 1), (x1 - 1, y1 - 1)];
    let Some(v) = value else {
        return draw_hatched(canvas, inner);
    };
    let fill = heat_colour(v);
    canvas.draw(&Rectangle::new(inner, fill.filled()))?;
    let t = txt(CELL_PX, false, text_colour_on(fill));
    let label = format!("{}%", (v.clamp(0.0, 1.0) * 100.0).round() as i64);
    if text_width(&label, t) + 6 <= x1 - x0 && y1 - y0 >= 20 {
        draw_text(
            canvas,
            &label,
            ((x0 + x1) / 2, (y0 + y1) / 2),
            t,
            HPos::Center,
        )?;
    }
    Ok(())
}

/// Light grey box with diagonal hatching: the "no data" mark.
fn draw_hatched(canvas: &Canvas<'_>, [(x0, y0), (x1, y1)]: [(i32, i32); 2]) -> Result<()> {
    canvas.draw(&Rectangle::new([(x0, y0), (x1, y1)], NO_DATA_FILL.filled()))?;
    let (w, h) = (x1 - x0, y1 - y0);
    let mut d = -h;
    while d < w {
        let t0 = (-d).max(0);
        let t1 = h.min(w - d);
        if t0 < t1 {
            let a = (x0 + d + t0, y1 - t0);
            let b = (x0 + d + t1, y1 - t1);
            canvas.draw(&PathElement::new(vec![a, b], NO_DATA_HATCH.stroke_width(1)))?;
        }
        d += HATCH_SPACING;
    }
    Ok(())
}

fn draw_heat_legend(canvas: &Canvas<'_>, layout: &HeatLayout) -> Result<()> {
    let x0 = layout.grid_right() + 40;
    let top = layout.grid_top;
    let bottom = top + HEAT_LEGEND_BAR_H;
    let t = txt(SMALL_PX, false, INK);
    for y in top..bottom {
        let v = f64::from(bottom - 1 - y) / f64::from(HEAT_LEGEND_BAR_H - 1);
        canvas.draw(&PathElement::new(
            vec![(x0, y), (x0 + HEAT_LEGEND_BAR_W, y)],
            heat_colour(v).stroke_width(1),
        ))?;
    }
    canvas.draw(&Rectangle::new(
        [(x0, top), (x0 + HEAT_LEGEND_BAR_W, bottom)],
        AXIS.stroke_width(1),
    ))?;
    for k in 0..=4 {
        let v = f64::from(k) / 4.0;
        let y = bottom - 1 - (v * f64::from(HEAT_LEGEND_BAR_H - 1)).round() as i32;
        let right = x0 + HEAT_LEGEND_BAR_W;
        canvas.draw(&PathElement::new(
            vec![(right, y), (right + 6, y)],
            AXIS.stroke_width(1),
        ))?;
        draw_text(canvas, &fmt_pct(v), (right + 12, y), t, HPos::Left)?;
    }
    let swatch_top = bottom + 40;
    draw_hatched(
        canvas,
        [
            (x0, swatch_top),
            (x0 + HEAT_LEGEND_BAR_W, swatch_top + HEAT_ROW_PX),
        ],
    )?;
    canvas.draw(&Rectangle::new(
        [
            (x0, swatch_top),
            (x0 + HEAT_LEGEND_BAR_W, swatch_top + HEAT_ROW_PX),
        ],
        AXIS.stroke_width(1),
    ))?;
    draw_text(
        canvas,
        "No data",
        (x0 + HEAT_LEGEND_BAR_W + 12, swatch_top + HEAT_ROW_PX / 2),
        t,
        HPos::Left,
    )
}

// ---------------------------------------------------------------------------
// Stacked bars
// ---------------------------------------------------------------------------

/// Pixel geometry of the stacked bar chart, worked out before drawing.
struct BarLayout {
    height: u32,
    colours: Vec<RGBColor>,
    legend_rows: Vec<Vec<(usize, i32)>>,
    label_t: Txt,
    label_w: i32,
    label_lines: usize,
    top: i32,
    pitch: i32,
    left: i32,
    right: i32,
    scale: Scale,
    /// How many categories are drawn (the first ones); the rest are noted.
    shown: usize,
}

impl BarLayout {
    fn new(categories: &[String], stacks: &[(String, Vec<f64>)]) -> Self {
        let colours = stack_colours(stacks);
        let legend_rows = legend_rows(stacks);
        let top = TITLE_Y + 40 + legend_rows.len() as i32 * 36 + 14;
        let fit = (MAX_HEIGHT as i32 - top - BAR_AXIS_GAP - BAR_NOTE_GAP) / BAR_MIN_PITCH;
        let shown = categories.len().min(usize::try_from(fit).unwrap_or(0));
        let n = shown.max(1) as i32;
        let room = BASE_HEIGHT as i32 - top - BAR_AXIS_GAP;
        let pitch = (room / n).clamp(BAR_MIN_PITCH, BAR_MAX_PITCH);
        let note_gap = if shown < categories.len() {
            BAR_NOTE_GAP
        } else {
            0
        };
        let height = if categories.is_empty() || stacks.is_empty() {
            BASE_HEIGHT
        } else {
            u32::try_from(top + n * pitch + BAR_AXIS_GAP + note_gap)
                .unwrap_or(MAX_HEIGHT)
                .clamp(BAR_MIN_HEIGHT, MAX_HEIGHT)
        };
        let label_t = txt(if pitch >= 40 { LEGEND_PX } else { SMALL_PX }, false, INK);
        let label_lines = if pitch >= 2 * line_height(label_t) + 8 {
            2
        } else {
            1
        };
        let widest = categories[..shown]
            .iter()
            .map(|c| text_width(c.trim(), label_t))
            .max()
            .unwrap_or(0);
        let label_w = widest.min(BAR_LABEL_MAX_W);
        let totals = bar_totals(shown, stacks);
        let max_total = totals.iter().copied().fold(0.0f64, f64::max);
        let whole = stacks
            .iter()
            .flat_map(|(_, v)| v.iter())
            .all(|v| is_whole(clean_value(*v)));
        let scale = Scale::new(0.0, max_total, 6, whole);
        let total_t = txt(SMALL_PX, false, INK);
        let total_w = totals
            .iter()
            .map(|t| text_width(&fmt_num(*t), total_t))
            .max()
            .unwrap_or(0);
        BarLayout {
            height,
            colours,
            legend_rows,
            label_t,
            label_w,
            label_lines,
            top,
            pitch,
            left: MARGIN + label_w + 16,
            right: WIDTH as i32 - MARGIN - total_w - 14,
            scale,
            shown,
        }
    }

    fn x(&self, v: f64) -> i32 {
        let f = self.scale.fraction(v).clamp(0.0, 1.0);
        self.left + (f * f64::from(self.right - self.left)).round() as i32
    }

    fn bottom(&self, n: usize) -> i32 {
        self.top + n as i32 * self.pitch
    }
}

fn clean_value(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 {
        v
    } else {
        0.0
    }
}

fn stack_value(stacks: &[(String, Vec<f64>)], s: usize, c: usize) -> f64 {
    stacks
        .get(s)
        .and_then(|(_, values)| values.get(c))
        .map_or(0.0, |v| clean_value(*v))
}

fn bar_totals(n: usize, stacks: &[(String, Vec<f64>)]) -> Vec<f64> {
    (0..n)
        .map(|c| (0..stacks.len()).map(|s| stack_value(stacks, s, c)).sum())
        .collect()
}

fn stance_colour(name: &str) -> Option<RGBColor> {
    match name.trim().to_lowercase().as_str() {
        "strength" | "strengths" => Some(STRENGTH),
        "concern" | "concerns" => Some(CONCERN),
        "mixed" => Some(MIXED),
        "neutral" => Some(NEUTRAL),
        _ => None,
    }
}

/// Fixed colours for stance names; the next unused Okabe-Ito colour otherwise.
fn stack_colours(stacks: &[(String, Vec<f64>)]) -> Vec<RGBColor> {
    let fixed: Vec<Option<RGBColor>> = stacks.iter().map(|(name, _)| stance_colour(name)).collect();
    let unused: Vec<RGBColor> = OKABE_ITO
        .iter()
        .copied()
        .filter(|c| !fixed.contains(&Some(*c)))
        .collect();
    let mut spare = unused.into_iter().cycle();
    fixed
        .into_iter()
        .map(|f| f.or_else(|| spare.next()).unwrap_or(NEUTRAL))
        .collect()
}

/// Legend entries (stack index, x position) packed into rows that fit the width.
fn legend_rows(stacks: &[(String, Vec<f64>)]) -> Vec<Vec<(usize, i32)>> {
    let t = txt(LEGEND_PX, false, INK);
    let max_label = WIDTH as i32 / 2;
    let mut rows: Vec<Vec<(usize, i32)>> = Vec::new();
    let mut current = Vec::new();
    let mut x = MARGIN;
    for (i, (name, _)) in stacks.iter().enumerate() {
        let w = SWATCH_PX + 10 + text_width(&ellipsize(name.trim(), t, max_label), t) + 36;
        if x + w > WIDTH as i32 - MARGIN && !current.is_empty() {
            rows.push(std::mem::take(&mut current));
            x = MARGIN;
        }
        current.push((i, x));
        x += w;
    }
    if !current.is_empty() {
        rows.push(current);
    }
    rows
}

fn draw_stacked_bars(
    canvas: &Canvas<'_>,
    layout: &BarLayout,
    x_label: &str,
    categories: &[String],
    stacks: &[(String, Vec<f64>)],
) -> Result<()> {
    draw_bar_legend(canvas, layout, stacks)?;
    draw_bar_axis(canvas, layout, x_label, layout.shown)?;
    for (c, name) in categories.iter().take(layout.shown).enumerate() {
        draw_bar(canvas, layout, c, name, stacks)?;
    }
    if layout.shown < categories.len() {
        let note = format!(
            "Only the first {} of {} categories are drawn.",
            layout.shown,
            categories.len()
        );
        let y = layout.bottom(layout.shown) + BAR_AXIS_GAP;
        draw_text(
            canvas,
            &note,
            (MARGIN, y),
            txt(NOTE_PX, false, MUTED),
            HPos::Left,
        )?;
    }
    Ok(())
}

fn draw_bar_legend(
    canvas: &Canvas<'_>,
    layout: &BarLayout,
    stacks: &[(String, Vec<f64>)],
) -> Result<()> {
    let t = txt(LEGEND_PX, false, INK);
    for (r, row) in layout.legend_rows.iter().enumerate() {
        let y = TITLE_Y + 52 + r as i32 * 36;
        for &(i, x) in row {
            let colour = layout.colours.get(i).copied().unwrap_or(NEUTRAL);
            let half = SWATCH_PX / 2;
            canvas.draw(&Rectangle::new(
                [(x, y - half), (x + SWATCH_PX, y + half)],
                colour.filled(),
            ))?;
            let name = stacks.get(i).map_or("", |(n, _)| n.trim());
            let label = ellipsize(name, t, WIDTH as i32 / 2);
            draw_text(canvas, &label, (x + SWATCH_PX + 10, y), t, HPos::Left)?;
        }
    }
    Ok(())
}

fn draw_bar_axis(canvas: &Canvas<'_>, layout: &BarLayout, x_label: &str, n: usize) -> Result<()> {
    let bottom = layout.bottom(n);
    let tick_t = txt(TICK_PX, false, INK);
    for v in layout.scale.ticks() {
        let x = layout.x(v);
        let colour = if v == 0.0 { AXIS } else { GRID };
        canvas.draw(&PathElement::new(
            vec![(x, layout.top), (x, bottom)],
            colour.stroke_width(1),
        ))?;
        draw_text(canvas, &fmt_num(v), (x, bottom + 24), tick_t, HPos::Center)?;
    }
    let t = txt(AXIS_TITLE_PX, false, INK);
    let label = ellipsize(x_label.trim(), t, layout.right - layout.left);
    draw_text(
        canvas,
        &label,
        ((layout.left + layout.right) / 2, bottom + 64),
        t,
        HPos::Center,
    )
}

fn draw_bar(
    canvas: &Canvas<'_>,
    layout: &BarLayout,
    c: usize,
    name: &str,
    stacks: &[(String, Vec<f64>)],
) -> Result<()> {
    let y_mid = layout.top + c as i32 * layout.pitch + layout.pitch / 2;
    let half = ((f64::from(layout.pitch) * BAR_FILL) / 2.0).round() as i32;
    let lh = line_height(layout.label_t);
    let lines = wrap(name, layout.label_t, layout.label_w, layout.label_lines);
    let first_y = y_mid - (lines.len() as i32 - 1) * lh / 2;
    for (k, line) in lines.iter().enumerate() {
        draw_text(
            canvas,
            line,
            (layout.left - 12, first_y + k as i32 * lh),
            layout.label_t,
            HPos::Right,
        )?;
    }
    let mut acc = 0.0;
    for s in 0..stacks.len() {
        let v = stack_value(stacks, s, c);
        if v <= 0.0 {
            continue;
        }
        let (x0, x1) = (layout.x(acc), layout.x(acc + v));
        acc += v;
        let colour = layout.colours.get(s).copied().unwrap_or(NEUTRAL);
        canvas.draw(&Rectangle::new(
            [(x0, y_mid - half), (x1, y_mid + half)],
            colour.filled(),
        ))?;
        canvas.draw(&PathElement::new(
            vec![(x1, y_mid - half), (x1, y_mid + half)],
            BACKGROUND.stroke_width(1),
        ))?;
        let t = txt(CELL_PX, false, text_colour_on(colour));
        let label = fmt_num(v);
        if text_width(&label, t) + 10 <= x1 - x0 && 2 * half >= 20 {
            draw_text(canvas, &label, ((x0 + x1) / 2, y_mid), t, HPos::Center)?;
        }
    }
    let total_t = txt(SMALL_PX, false, INK);
    draw_text(
        canvas,
        &fmt_num(acc),
        (layout.x(acc) + 8, y_mid),
        total_t,
        HPos::Left,
    )
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::style::text_anchor::{Pos, VPos};

    /// Pixels of a 400 x 200 grey-striped canvas after `draw`.
    fn pixels(draw: impl FnOnce(&Canvas<'_>)) -> Vec<u8> {
        ensure_fonts().unwrap();
        let mut buffer = vec![255u8; 400 * 200 * 3];
        {
            let canvas = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut buffer, (400, 200))
                .unwrap()
                .into_drawing_area();
            // Stripes, so that glyphs blend over colours other than white.
            for y in (0..200).step_by(7) {
                canvas
                    .draw(&Rectangle::new([(0, y), (400, y + 3)], GRID.filled()))
                    .unwrap();
            }
            draw(&canvas);
            canvas.present().unwrap();
        }
        buffer
    }

    #[test]
    fn cached_glyphs_draw_what_plotters_draws() {
        // Text, style, anchor, rotation, position.
        type Case<'a> = (&'a str, Txt, HPos, FontTransform, (i32, i32));
        let cases: [Case<'_>; 4] = [
            (
                "Thresholds 2019 (n = 12)",
                txt(TITLE_PX, true, INK),
                HPos::Left,
                FontTransform::None,
                (5, 60),
            ),
            (
                "Wirral: caseloads… ‘quoted’",
                txt(TICK_PX, false, MUTED),
                HPos::Center,
                FontTransform::None,
                (200, 150),
            ),
            (
                "Share of reports",
                txt(AXIS_TITLE_PX, false, INK),
                HPos::Center,
                FontTransform::Rotate270,
                (40, 100),
            ),
            (
                "AVWaTo 10%",
                txt(SMALL_PX, true, OKABE_ITO[1]),
                HPos::Right,
                FontTransform::None,
                (395, 20),
            ),
        ];
        let blank = pixels(|_| {});
        for (text, t, h, trans, pos) in cases {
            let ours = pixels(|c| draw_glyphs(c, text, pos, t, h, trans.clone()).unwrap());
            let theirs = pixels(|c| {
                let style = font(t)
                    .color(&t.color)
                    .pos(Pos::new(h, VPos::Center))
                    .transform(trans.clone());
                c.draw(&Text::new(text.to_string(), pos, style)).unwrap();
            });
            assert!(ours != blank, "{text}: something drawn");
            assert!(ours == theirs, "{text}: same pixels as plotters");
        }
    }

    fn size_of(png_bytes: &[u8]) -> (u32, u32) {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let reader = decoder.read_info().expect("output decodes as PNG");
        let info = reader.info();
        (info.width, info.height)
    }

    fn sample_series() -> Vec<Series> {
        vec![
            Series {
                label: "Thresholds".to_string(),
                points: vec![(2014, 0.2), (2015, 0.35), (2018, 0.4), (2019, 0.3)],
            },
            Series {
                label: "Police delays to strategy meetings".to_string(),
                points: vec![(2016, 0.5)],
            },
        ]
    }

    fn names(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix} {i}")).collect()
    }

    #[test]
    fn line_chart_has_expected_size_and_is_repeatable() {
        let counts = [(2014, 10), (2015, 12), (2016, 3), (2018, 9), (2019, 4)];
        let a = line_chart("Trend", "Share of reports", true, &counts, &sample_series()).unwrap();
        let b = line_chart("Trend", "Share of reports", true, &counts, &sample_series()).unwrap();
        assert_eq!(size_of(&a), (WIDTH, BASE_HEIGHT));
        assert!(a == b, "same input gave different bytes");
    }

    #[test]
    fn line_chart_renders_without_data() {
        let empty = line_chart("Trend", "Share", true, &[], &[]).unwrap();
        assert_eq!(size_of(&empty), (WIDTH, BASE_HEIGHT));
        let only_nan = vec![Series {
            label: "x".to_string(),
            points: vec![(2020, f64::NAN)],
        }];
        let nan = line_chart("Trend", "Share", false, &[(2020, 1)], &only_nan).unwrap();
        assert_eq!(size_of(&nan), (WIDTH, BASE_HEIGHT));
    }

    #[test]
    fn line_chart_handles_one_year_and_odd_years() {
        let one = vec![Series {
            label: "Caseloads".to_string(),
            points: vec![(2021, 3.0)],
        }];
        let png_bytes = line_chart("One year", "Count", false, &[(2021, 1)], &one).unwrap();
        assert_eq!(size_of(&png_bytes), (WIDTH, BASE_HEIGHT));
        let wide = vec![Series {
            label: "Wide".to_string(),
            points: vec![(i32::MIN, 1.0), (i32::MAX, -2.0)],
        }];
        assert!(line_chart("Wide", "v", false, &[], &wide).is_ok());
    }

    #[test]
    fn heatmap_grows_with_rows_and_is_repeatable() {
        let rows = names("Bournemouth, Christchurch and Poole", 40);
        let cols = names("Management oversight and supervision", 16);
        let values: Vec<Vec<Option<f64>>> = (0..40)
            .map(|r| {
                (0..16)
                    .map(|c| {
                        if (r + c) % 7 == 0 {
                            None
                        } else {
                            Some(((r * c) % 10) as f64 / 9.0)
                        }
                    })
                    .collect()
            })
            .collect();
        let a = heatmap("Themes", &rows, &cols, &values, "40 of 152 shown").unwrap();
        let b = heatmap("Themes", &rows, &cols, &values, "40 of 152 shown").unwrap();
        let (w, h) = size_of(&a);
        assert_eq!(w, WIDTH);
        assert!(h > BASE_HEIGHT && h <= MAX_HEIGHT);
        assert!(a == b, "same input gave different bytes");
    }

    #[test]
    fn heatmap_renders_without_data_and_with_ragged_values() {
        let empty = heatmap("Themes", &[], &[], &[], "").unwrap();
        assert_eq!(size_of(&empty), (WIDTH, BASE_HEIGHT));
        let ragged = heatmap(
            "Themes",
            &names("LA", 3),
            &names("Theme", 4),
            &[vec![Some(2.0)]],
            "",
        )
        .unwrap();
        assert_eq!(size_of(&ragged).0, WIDTH);
    }

    #[test]
    fn stacked_bars_have_expected_size_and_are_repeatable() {
        let cats = names("Quality of audit and management oversight", 16);
        let stacks: Vec<(String, Vec<f64>)> = ["strength", "concern", "mixed", "neutral"]
            .iter()
            .enumerate()
            .map(|(k, s)| {
                (
                    s.to_string(),
                    (0..16).map(|i| ((i * (k + 2)) % 13) as f64).collect(),
                )
            })
            .collect();
        let a = stacked_bars("Stance", "Findings", &cats, &stacks).unwrap();
        let b = stacked_bars("Stance", "Findings", &cats, &stacks).unwrap();
        let (w, h) = size_of(&a);
        assert_eq!(w, WIDTH);
        assert!((BAR_MIN_HEIGHT..=BASE_HEIGHT).contains(&h));
        assert!(a == b, "same input gave different bytes");
    }

    #[test]
    fn stacked_bars_cap_height_for_many_categories() {
        let cats = names("Theme", 500);
        let stacks = vec![("concern".to_string(), vec![1.0; 500])];
        let png_bytes = stacked_bars("Many", "Findings", &cats, &stacks).unwrap();
        let (w, h) = size_of(&png_bytes);
        assert_eq!(w, WIDTH);
        assert!(h > BASE_HEIGHT && h <= MAX_HEIGHT);
    }

    #[test]
    fn stacked_bars_render_without_data() {
        let empty = stacked_bars("Stance", "Findings", &[], &[]).unwrap();
        assert_eq!(size_of(&empty), (WIDTH, BASE_HEIGHT));
        let zeros = stacked_bars(
            "Stance",
            "Findings",
            &names("T", 2),
            &[("concern".to_string(), vec![])],
        )
        .unwrap();
        assert_eq!(size_of(&zeros).0, WIDTH);
    }

    #[test]
    fn output_is_identical_across_threads() {
        let render_once =
            || line_chart("T", "Share", true, &[(2014, 3)], &sample_series()).unwrap();
        let here = render_once();
        let there = std::thread::spawn(render_once).join().unwrap();
        assert_eq!(here, there);
    }

    #[test]
    fn text_helpers_fit_width() {
        let t = txt(SMALL_PX, false, INK);
        let short = ellipsize("Bournemouth, Christchurch and Poole", t, 150);
        assert!(short.ends_with('…'));
        assert!(text_width(&short, t) <= 150);
        let lines = wrap(
            "Management oversight and supervision of frontline practice",
            t,
            200,
            2,
        );
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| text_width(l, t) <= 200));
    }
}
