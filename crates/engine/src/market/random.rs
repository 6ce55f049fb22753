//! Portable random variates: uniform, normal (Marsaglia polar), gamma (Marsaglia–Tsang),
//! chi-square. Only `libm` is used for transcendental functions and square roots are the
//! correctly rounded `f64::sqrt`, so the same seed gives the same bits on every platform.

use super::chacha::ChaCha8;

/// SplitMix64 step (Steele, Lea, Flood 2014): expands a 64-bit seed into key words.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator of path `stream` under `seed`: ChaCha8 keyed by the SplitMix64
/// expansion of `seed` (little-endian words), on ChaCha stream (nonce) `stream`.
pub(crate) fn path_rng(seed: u64, stream: u64) -> ChaCha8 {
    let mut key = [0u8; 32];
    let mut state = seed;
    for chunk in key.chunks_exact_mut(8) {
        chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    ChaCha8::new(key, stream)
}

/// A stream of variates over one generator, caching the polar method's second normal.
pub(crate) struct Variates {
    rng: ChaCha8,
    spare: Option<f64>,
}

impl Variates {
    pub(crate) fn new(rng: ChaCha8) -> Variates {
        Variates { rng, spare: None }
    }

    /// Uniform on [0, 1) with 53 random bits.
    #[inline]
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal, Marsaglia polar method.
    #[inline]
    pub(crate) fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let m = f64::sqrt(-2.0 * libm::log(s) / s);
                self.spare = Some(v * m);
                return u * m;
            }
        }
    }

    /// Gamma(shape, 1), Marsaglia & Tsang (2000); for shape < 1 the boost
    /// `Gamma(shape + 1)·U^(1/shape)`.
    pub(crate) fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            let g = self.gamma(shape + 1.0);
            let u = loop {
                let u = self.uniform();
                if u > 0.0 {
                    break u;
                }
            };
            return g * libm::pow(u, 1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / f64::sqrt(9.0 * d);
        loop {
            let (x, v) = loop {
                let x = self.normal();
                let v = 1.0 + c * x;
                if v > 0.0 {
                    break (x, v * v * v);
                }
            };
            let u = self.uniform();
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 {
                return d * v;
            }
            if u > 0.0 && libm::log(u) < 0.5 * x2 + d * (1.0 - v + libm::log(v)) {
                return d * v;
            }
        }
    }

    /// Chi-square with `dof` degrees of freedom: `2·Gamma(dof/2)`.
    #[inline]
    pub(crate) fn chi_square(&mut self, dof: f64) -> f64 {
        2.0 * self.gamma(0.5 * dof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
        (m, v)
    }

    #[test]
    fn normal_has_unit_moments() {
        let mut g = Variates::new(path_rng(7, 0));
        let xs: Vec<f64> = (0..200_000).map(|_| g.normal()).collect();
        let (m, v) = moments(&xs);
        // Standard errors: 1/sqrt(n) ≈ 0.0022 for the mean, sqrt(2/n) ≈ 0.0032 for the variance.
        assert!(m.abs() < 0.01, "mean {m}");
        assert!((v - 1.0).abs() < 0.015, "variance {v}");
    }

    #[test]
    fn gamma_has_its_moments() {
        for shape in [0.5, 1.0, 2.5, 10.0] {
            let mut g = Variates::new(path_rng(11, 3));
            let xs: Vec<f64> = (0..100_000).map(|_| g.gamma(shape)).collect();
            let (m, v) = moments(&xs);
            let se_m = (shape / 100_000.0f64).sqrt();
            assert!((m - shape).abs() < 5.0 * se_m, "shape {shape} mean {m}");
            assert!((v / shape - 1.0).abs() < 0.05, "shape {shape} var {v}");
        }
    }

    #[test]
    fn streams_differ_and_repeat() {
        let a: Vec<u64> = {
            let mut r = path_rng(1, 0);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = path_rng(1, 1);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let a2: Vec<u64> = {
            let mut r = path_rng(1, 0);
            (0..4).map(|_| r.next_u64()).collect()
        };
        assert_ne!(a, b);
        assert_eq!(a, a2);
    }
}
