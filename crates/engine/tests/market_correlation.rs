//! Correlation validation and nearest-correlation repair.
#![allow(clippy::needless_range_loop)] // matrices read best with indices

use tollbooth_engine::market::{validate_correlation, MarketError, RepairMethod};

fn factor_error(m: &[Vec<f64>], factor: &[f64]) -> f64 {
    // max |L Lᵀ − M|
    let k = m.len();
    let mut worst = 0.0f64;
    for i in 0..k {
        for j in 0..k {
            let s: f64 = (0..k).map(|c| factor[i * k + c] * factor[j * k + c]).sum();
            worst = worst.max((s - m[i][j]).abs());
        }
    }
    worst
}

#[test]
fn higham_example_is_repaired_to_the_published_nearest_correlation() {
    // Higham (2002), section 5: the nearest correlation matrix to this non-PSD matrix
    // has off-diagonals 0.7607 and 0.1573 (four decimals as published).
    let a = vec![
        vec![1.0, 1.0, 0.0],
        vec![1.0, 1.0, 1.0],
        vec![0.0, 1.0, 1.0],
    ];
    let v = validate_correlation(&a, 3).unwrap();
    let repair = v.repair.expect("not PSD: repaired");
    assert_eq!(repair.method, RepairMethod::Higham2002);
    assert!(repair.min_eigenvalue_before < -0.4);
    let m = &v.matrix;
    assert!((m[0][1] - 0.7607).abs() < 1e-4, "{}", m[0][1]);
    assert!((m[1][2] - 0.7607).abs() < 1e-4, "{}", m[1][2]);
    assert!((m[0][2] - 0.1573).abs() < 1e-4, "{}", m[0][2]);
    assert!((repair.max_change - (1.0 - 0.7607)).abs() < 1e-3);
    for i in 0..3 {
        assert_eq!(m[i][i], 1.0);
        for j in 0..3 {
            assert_eq!(m[i][j], m[j][i]);
        }
    }
    assert!(factor_error(m, &v.factor) < 1e-12);
}

#[test]
fn inconsistent_three_asset_correlations_are_repaired() {
    // det < 0: a typed-in matrix that cannot be a correlation matrix.
    let a = vec![
        vec![1.0, 0.9, 0.7],
        vec![0.9, 1.0, 0.3],
        vec![0.7, 0.3, 1.0],
    ];
    let v = validate_correlation(&a, 3).unwrap();
    let r = v.repair.expect("repaired");
    assert!(r.max_change > 0.0 && r.max_change < 0.05, "{r:?}");
    assert!(factor_error(&v.matrix, &v.factor) < 1e-12);
}

#[test]
fn valid_matrix_is_left_alone() {
    let a = vec![vec![1.0, -0.3], vec![-0.3, 1.0]];
    let v = validate_correlation(&a, 2).unwrap();
    assert!(v.repair.is_none());
    assert_eq!(v.matrix, a);
}

#[test]
fn bad_entries_are_named() {
    let mut a = vec![vec![0.0; 6]; 6];
    for (i, row) in a.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    let mut nan = a.clone();
    nan[2][5] = f64::NAN;
    let e = validate_correlation(&nan, 6).unwrap_err();
    assert_eq!(e, MarketError::CorrelationNotFinite { row: 2, col: 5 });
    assert!(e.to_string().contains("correlation[2][5]"));

    let mut asym = a.clone();
    asym[1][4] = 0.5;
    asym[4][1] = 0.4;
    let e = validate_correlation(&asym, 6).unwrap_err();
    assert!(matches!(
        e,
        MarketError::CorrelationNotSymmetric { row: 1, col: 4, .. }
    ));
    assert!(e.to_string().contains("correlation[1][4]"), "{e}");

    let mut big = a.clone();
    big[0][3] = 1.2;
    big[3][0] = 1.2;
    let e = validate_correlation(&big, 6).unwrap_err();
    assert!(e.to_string().contains("correlation[0][3]"), "{e}");

    let mut diag = a.clone();
    diag[3][3] = 0.9;
    let e = validate_correlation(&diag, 6).unwrap_err();
    assert_eq!(
        e,
        MarketError::CorrelationDiagonal {
            index: 3,
            value: 0.9
        }
    );

    let e = validate_correlation(&a[..5], 6).unwrap_err();
    assert_eq!(
        e,
        MarketError::CorrelationRows {
            rows: 5,
            expected: 6
        }
    );
    let mut short = a.clone();
    short[4].pop();
    let e = validate_correlation(&short, 6).unwrap_err();
    assert!(e.to_string().contains("correlation[4]"), "{e}");
}
