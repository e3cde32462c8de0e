//! Least-squares fit of `y = base + per_unit * x`.

use serde::Serialize;

/// A fitted line and how well it fits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Line {
    pub base: f64,
    pub per_unit: f64,
    /// Coefficient of determination (1 is a perfect fit).
    pub r2: f64,
}

/// Fits a line through `points` by ordinary least squares; `None` with fewer than two
/// distinct x values.
pub fn fit(points: &[(f64, f64)]) -> Option<Line> {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - mean_y).powi(2)).sum();
    if points.len() < 2 || sxx == 0.0 {
        return None;
    }
    let per_unit = sxy / sxx;
    let base = mean_y - per_unit * mean_x;
    let r2 = if syy == 0.0 {
        1.0
    } else {
        (sxy * sxy) / (sxx * syy)
    };
    Some(Line { base, per_unit, r2 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_an_exact_line() {
        let points: Vec<(f64, f64)> = (0..5).map(|x| (x as f64, 3.0 + 2.5 * x as f64)).collect();
        let line = fit(&points).unwrap();
        assert!((line.base - 3.0).abs() < 1e-9);
        assert!((line.per_unit - 2.5).abs() < 1e-9);
        assert!((line.r2 - 1.0).abs() < 1e-9);
    }

    #[test]
    fn noise_lowers_r2_and_one_x_cannot_fit() {
        let line = fit(&[(0.0, 1.0), (1.0, 3.0), (2.0, 2.0), (3.0, 5.0)]).unwrap();
        assert!(line.r2 < 1.0 && line.r2 > 0.0);
        assert!(fit(&[(1.0, 1.0), (1.0, 2.0)]).is_none());
    }
}
