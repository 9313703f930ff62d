//! Calibration of the values the national guideline leaves open, on development cases only.
//!
//! The form of every calibrated increment (element, step, counted above which threshold) is written in
//! `knowledge/calibration/*.law`; this module fits its one number (months per step) by grid search on
//! the CAIL term score of the cases of that charge and band, and fits the few global points of
//! [`Params`]. Procedure and results: `docs/CALIBRATION.md`.

use super::eval::{score, TermReport};
use super::guideline::Params;
use super::{band, predicted, sentence_with};
use crate::kb::eval::Facts;
use crate::kb::model::KnowledgeBase;
use rayon::prelude::*;

/// A development case prepared for sentencing.
#[derive(Debug, Clone)]
pub struct DevCase {
    /// Extracted facts.
    pub facts: Facts,
    /// Charges to sentence (gold or decided).
    pub charges: Vec<String>,
    /// Gold months in the scoring convention (life −1, death −2).
    pub gold: f64,
    /// Charge key for per-charge reports.
    pub key: String,
}

/// Scores `cases` with the given parameters.
pub fn report(kb: &KnowledgeBase, cases: &[DevCase], params: &Params, portion: f64) -> TermReport {
    let preds: Vec<Option<f64>> = cases.par_iter().map(|c| predicted(&sentence_with(kb, &c.facts, &c.charges, params, portion))).collect();
    let mut r = TermReport::default();
    for (c, p) in cases.iter().zip(preds) {
        r.add(&c.key, c.gold, p);
    }
    r
}

fn mean_score(kb: &KnowledgeBase, cases: &[&DevCase], params: &Params, portion: f64) -> f64 {
    if cases.is_empty() {
        return 0.0;
    }
    let s: f64 = cases.par_iter().map(|c| score(c.gold, predicted(&sentence_with(kb, &c.facts, &c.charges, params, portion)))).sum();
    s / cases.len() as f64
}

/// The result of fitting one calibrated increment.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// Charge.
    pub charge: String,
    /// Band.
    pub band: u32,
    /// Element measured.
    pub element: String,
    /// Months per step before fitting.
    pub before: f64,
    /// Months per step chosen.
    pub after: f64,
    /// Cases used.
    pub n: usize,
    /// Mean score with `before`.
    pub score_before: f64,
    /// Mean score with `after`.
    pub score_after: f64,
}

/// The grid of months per step tried for increments.
pub const INCREMENT_GRID: &[f64] = &[0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0];

/// Fits every calibrated increment of `kb` in place: for each, the cases whose only charge is the
/// increment's charge and whose selected band is its band; the months value with the best mean score
/// wins (ties: the smaller value, the more conservative addition).
pub fn fit_increments(kb: &mut KnowledgeBase, cases: &[DevCase], params: &Params, grid: &[f64]) -> Vec<Fitted> {
    let mut out = Vec::new();
    let targets: Vec<(usize, usize, usize)> = kb
        .charges
        .iter()
        .enumerate()
        .flat_map(|(ci, c)| c.bands.iter().enumerate().flat_map(move |(bi, b)| b.increments.iter().enumerate().filter(|(_, i)| i.source.calibrated).map(move |(ii, _)| (ci, bi, ii))))
        .collect();
    for (ci, bi, ii) in targets {
        let (name, number) = (kb.charges[ci].name.clone(), kb.charges[ci].bands[bi].number);
        let subset = band_cases(kb, cases, &name, number);
        let before = kb.charges[ci].bands[bi].increments[ii].months;
        let score_before = mean_score(kb, &subset, params, super::combine::DEFAULT_PORTION);
        let mut best = (before, score_before);
        for &m in grid {
            kb.charges[ci].bands[bi].increments[ii].months = m;
            let s = mean_score(kb, &subset, params, super::combine::DEFAULT_PORTION);
            if s > best.1 + 1e-9 || ((s - best.1).abs() <= 1e-9 && m < best.0) {
                best = (m, s);
            }
        }
        kb.charges[ci].bands[bi].increments[ii].months = best.0;
        out.push(Fitted {
            charge: name,
            band: number,
            element: kb.charges[ci].bands[bi].increments[ii].element.clone(),
            before,
            after: best.0,
            n: subset.len(),
            score_before,
            score_after: best.1,
        });
    }
    out
}

/// The cases whose only charge is `name` and whose selected band is `number`: the cases a band's own
/// value is fitted on.
fn band_cases<'a>(kb: &KnowledgeBase, cases: &'a [DevCase], name: &str, number: u32) -> Vec<&'a DevCase> {
    cases
        .iter()
        .filter(|c| c.charges.len() == 1 && band::find_charge(kb, &c.charges[0]).is_some_and(|x| x.name == name))
        .filter(|c| band::select(kb, name, &c.facts).is_some_and(|b| b.band == number))
        .collect()
}

/// The grid of per-band starting positions tried.
pub const START_GRID: &[f64] = &[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// Fits every calibrated per-band starting position (`extend … { start_at … calibrated … }`) in place,
/// on the same cases as the band's increments; ties keep the value closest to the current one. The
/// result reuses [`Fitted`] with `element` = "start_at".
pub fn fit_start_positions(kb: &mut KnowledgeBase, cases: &[DevCase], params: &Params, grid: &[f64]) -> Vec<Fitted> {
    let mut out = Vec::new();
    let targets: Vec<(usize, usize)> = kb
        .charges
        .iter()
        .enumerate()
        .flat_map(|(ci, c)| c.bands.iter().enumerate().filter(|(_, b)| b.start_position.as_ref().is_some_and(|(_, s)| s.calibrated)).map(move |(bi, _)| (ci, bi)))
        .collect();
    for (ci, bi) in targets {
        let (name, number) = (kb.charges[ci].name.clone(), kb.charges[ci].bands[bi].number);
        let subset = band_cases(kb, cases, &name, number);
        let Some((before, src)) = kb.charges[ci].bands[bi].start_position.clone() else { continue };
        let score_before = mean_score(kb, &subset, params, super::combine::DEFAULT_PORTION);
        let mut scores = Vec::new();
        for &v in grid {
            kb.charges[ci].bands[bi].start_position = Some((v, src.clone()));
            scores.push((v, mean_score(kb, &subset, params, super::combine::DEFAULT_PORTION)));
        }
        let best = if subset.is_empty() { before } else { best_of(&scores, before) };
        let score_after = scores.iter().find(|x| x.0 == best).map_or(score_before, |x| x.1);
        kb.charges[ci].bands[bi].start_position = Some((best, src));
        out.push(Fitted { charge: name, band: number, element: "start_at".into(), before, after: best, n: subset.len(), score_before, score_after });
    }
    out
}

/// One global parameter tried over a grid, with the score of each value.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamFit {
    /// Parameter name.
    pub name: &'static str,
    /// (value, mean score over all cases).
    pub scores: Vec<(f64, f64)>,
    /// The value chosen.
    pub best: f64,
}

/// Fits the global points of [`Params`] and the 数罪并罚 portion one at a time, in a fixed order, on
/// all cases. Returns the fitted parameters, portion and the score tables.
pub fn fit_params(kb: &KnowledgeBase, cases: &[DevCase], start: &Params, portion: f64) -> (Params, f64, Vec<ParamFit>) {
    let all: Vec<&DevCase> = cases.iter().collect();
    let multi: Vec<&DevCase> = cases.iter().filter(|c| c.charges.len() > 1).collect();
    let mut p = start.clone();
    let mut portion = portion;
    let mut fits = Vec::new();
    let grid01: Vec<f64> = (0..=10).map(|i| i as f64 / 10.0).collect();
    type Setter = fn(&mut Params, f64);
    type Getter = fn(&Params, &KnowledgeBase) -> f64;
    let axes: [(&'static str, Setter, Getter, &[f64]); 5] = [
        ("start_position", |p, v| p.start_position = v, |p, _| p.start_position, &grid01),
        ("adjust_strength", |p, v| p.adjust_strength = v, |p, _| p.adjust_strength, &grid01),
        (
            "default_position",
            |p, v| p.default_position = Some(v),
            |p, kb| p.default_position.unwrap_or_else(|| super::guideline::derived_default_position(kb)),
            &[0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5],
        ),
        ("death_margin", |p, v| p.death_margin = v, |p, _| p.death_margin, &[0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0]),
        ("life_margin", |p, v| p.life_margin = v, |p, _| p.life_margin, &[0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0]),
    ];
    for (name, set, get, grid) in axes {
        let mut scores = Vec::new();
        // Life must stay reachable below death: the life margin is fitted under the death margin.
        for &v in grid.iter().filter(|&&v| name != "life_margin" || v < p.death_margin) {
            let mut q = p.clone();
            set(&mut q, v);
            scores.push((v, mean_score(kb, &all, &q, portion)));
        }
        let best = best_of(&scores, get(&p, kb));
        set(&mut p, best);
        fits.push(ParamFit { name, scores, best });
    }
    let mut scores = Vec::new();
    for &v in &grid01 {
        scores.push((v, mean_score(kb, &multi, &p, v)));
    }
    portion = if multi.is_empty() { portion } else { best_of(&scores, portion) };
    fits.push(ParamFit { name: "combine_portion", scores, best: portion });
    (p, portion, fits)
}

/// The best-scoring value; among ties, the one closest to `current` (a flat score is no reason to move).
fn best_of(scores: &[(f64, f64)], current: f64) -> f64 {
    let top = scores.iter().map(|x| x.1).fold(f64::NEG_INFINITY, f64::max);
    scores
        .iter()
        .filter(|x| x.1 >= top - 1e-9)
        .min_by(|a, b| (a.0 - current).abs().total_cmp(&(b.0 - current).abs()))
        .map_or(current, |x| x.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentence::testkb::theft_kb;

    fn case(amount: f64, gold: f64) -> DevCase {
        let mut f = Facts::default();
        f.set_number("amount_yuan", amount);
        DevCase { facts: f, charges: vec!["盗窃".into()], gold, key: "盗窃".into() }
    }

    #[test]
    fn fits_the_months_per_step_that_best_scores() {
        let mut kb = theft_kb();
        // Gold terms follow 6.5 + 2 months per 2000 yuan above 1000.
        let cases: Vec<DevCase> = [1000.0, 9000.0, 21_000.0, 29_000.0].iter().map(|&a| case(a, 6.5 + 2.0 * ((a - 1000.0) / 2000.0).floor())).collect();
        let fits = fit_increments(&mut kb, &cases, &Params::midpoints(), INCREMENT_GRID);
        assert_eq!(fits.len(), 1);
        assert_eq!(fits[0].n, 4);
        assert_eq!(fits[0].after, 2.0);
        assert!(fits[0].score_after >= fits[0].score_before);
        assert_eq!(kb.charges[0].bands[0].increments[0].months, 2.0);
    }

    #[test]
    fn fits_a_band_start_position() {
        let mut kb = theft_kb();
        kb.charges[0].bands[0].increments.clear();
        kb.charges[0].bands[0].start_position = Some((0.5, crate::kb::model::Source { cite: "docs/CALIBRATION.md#start".into(), calibrated: true }));
        // Band 1 starts in 1..12 months (拘役 from one month): gold terms of 2 months favour the low end.
        let cases: Vec<DevCase> = [1000.0, 2000.0, 3000.0].iter().map(|&a| case(a, 2.0)).collect();
        let fits = fit_start_positions(&mut kb, &cases, &Params::midpoints(), START_GRID);
        assert_eq!(fits.len(), 1);
        assert_eq!(fits[0].n, 3);
        assert!(fits[0].after < 0.2, "{fits:?}");
        assert!(fits[0].score_after > fits[0].score_before);
        assert_eq!(kb.charges[0].bands[0].start_position.as_ref().map(|x| x.0), Some(fits[0].after));
    }

    #[test]
    fn fits_global_params_and_reports() {
        let kb = theft_kb();
        let cases = vec![case(1000.0, 7.0), case(50_000.0, 42.0)];
        let (p, portion, fits) = fit_params(&kb, &cases, &Params::default(), 0.5);
        assert_eq!(fits.len(), 6);
        assert!((0.0..=1.0).contains(&p.start_position));
        assert_eq!(portion, 0.5, "no multi-charge case: the portion is kept");
        let r = report(&kb, &cases, &p, portion);
        assert_eq!(r.total.n, 2);
        assert!(r.total.mean_score() > 0.5);
    }
}
