//! Portable random variates: uniform, normal (the ziggurat of Marsaglia & Tsang, 256
//! layers), gamma (Marsaglia–Tsang), chi-square. Only `libm` is used for transcendental
//! functions and square roots are the correctly rounded `f64::sqrt`, so the same seed gives
//! the same bits on every platform (the ziggurat's tables too: they are computed, once, with
//! the same functions).

use std::sync::OnceLock;

use super::chacha::ChaCha8;

/// The ziggurat's layers.
const LAYERS: usize = 256;

/// The right edge of the base layer (where the tail starts), for 256 layers.
const ZIG_R: f64 = 3.654_152_885_361_009;

/// The area of each layer (the base layer's rectangle plus the tail), for 256 layers.
const ZIG_V: f64 = 0.004_928_673_233_99;

/// The ziggurat's tables: `x[i]` the right edge of layer `i`'s rectangle (`x[0]` the base
/// layer's equivalent width `V / f(R)`, `x[1] = R`, decreasing to `x[256] = 0`) and
/// `f[i] = exp(−x[i]²/2)`.
struct Ziggurat {
    x: [f64; LAYERS + 1],
    f: [f64; LAYERS + 1],
}

/// The unnormalised normal density.
#[inline]
fn density(x: f64) -> f64 {
    libm::exp(-0.5 * x * x)
}

fn ziggurat() -> &'static Ziggurat {
    static TABLES: OnceLock<Ziggurat> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut x = [0.0; LAYERS + 1];
        x[0] = ZIG_V / density(ZIG_R);
        x[1] = ZIG_R;
        for i in 2..LAYERS {
            // The layer above has the same area: x[i]·(f(x[i]) − f(x[i−1])) = V.
            x[i] = f64::sqrt(-2.0 * libm::log(ZIG_V / x[i - 1] + density(x[i - 1])));
        }
        x[LAYERS] = 0.0;
        let f = x.map(density);
        Ziggurat { x, f }
    })
}

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

/// A stream of variates over one generator.
pub(crate) struct Variates {
    rng: ChaCha8,
    zig: &'static Ziggurat,
}

impl Variates {
    pub(crate) fn new(rng: ChaCha8) -> Variates {
        Variates {
            rng,
            zig: ziggurat(),
        }
    }

    /// Uniform on [0, 1) with 53 random bits.
    #[inline]
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on (0, 1): never 0 (for logarithms).
    #[inline]
    fn open_uniform(&mut self) -> f64 {
        ((self.rng.next_u64() >> 12) as f64 + 0.5) * (1.0 / (1u64 << 52) as f64)
    }

    /// Standard normal: the ziggurat (Marsaglia & Tsang 2000, 256 layers). One 64-bit draw
    /// picks the layer (its low 8 bits) and a point across it (its high 53 bits, as a
    /// uniform on [−1, 1)); the point is accepted at once when it lies inside the layer's
    /// rectangle (about 99 % of draws). Otherwise it lies in the layer's wedge, accepted
    /// with probability by the density, or, in the base layer, beyond `R`: the tail, by
    /// Marsaglia's exponential method.
    #[inline]
    pub(crate) fn normal(&mut self) -> f64 {
        let z = self.zig;
        loop {
            let bits = self.rng.next_u64();
            let i = (bits & 0xff) as usize;
            let u = (bits >> 11) as f64 * (2.0 / (1u64 << 53) as f64) - 1.0;
            let x = u * z.x[i];
            if x.abs() < z.x[i + 1] {
                return x;
            }
            if i == 0 {
                return self.normal_tail(u < 0.0);
            }
            if z.f[i + 1] + (z.f[i] - z.f[i + 1]) * self.uniform() < density(x) {
                return x;
            }
        }
    }

    /// A normal beyond `R` (below `−R` when `negative`).
    #[cold]
    fn normal_tail(&mut self, negative: bool) -> f64 {
        loop {
            let x = libm::log(self.open_uniform()) / ZIG_R;
            let y = libm::log(self.open_uniform());
            if -2.0 * y >= x * x {
                return if negative { x - ZIG_R } else { ZIG_R - x };
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
    fn ziggurat_layers_have_equal_areas() {
        let z = ziggurat();
        assert!(z.x.windows(2).all(|w| w[0] > w[1]), "edges decrease");
        // The base layer: its rectangle and the tail.
        let tail = ZIG_V - ZIG_R * density(ZIG_R);
        let tail_exact = (std::f64::consts::PI / 2.0).sqrt() * libm::erfc(ZIG_R / 2f64.sqrt());
        assert!(
            (tail - tail_exact).abs() < 1e-10,
            "tail {tail} vs {tail_exact}"
        );
        for i in 1..LAYERS {
            let area = z.x[i] * (z.f[i + 1] - z.f[i]);
            assert!((area / ZIG_V - 1.0).abs() < 1e-6, "layer {i}: area {area}");
        }
    }

    /// A million normals against the normal distribution: 42 cells (40 of width 0.2 from
    /// −4 to 4, and the two tails beyond) by Pearson's χ², and the tails beyond ±3 and
    /// beyond the base layer's edge (the ziggurat's separate tail method) on their own.
    #[test]
    fn normals_follow_the_normal_distribution() {
        let n = 1_000_000usize;
        let mut g = Variates::new(path_rng(2024, 9));
        let cdf = |x: f64| 0.5 * libm::erfc(-x / 2f64.sqrt());
        let edges: Vec<f64> = (0..=40).map(|k| -4.0 + 0.2 * k as f64).collect();
        let mut counts = vec![0usize; edges.len() + 1];
        let (mut beyond3, mut beyond_r) = (0usize, 0usize);
        for _ in 0..n {
            let x = g.normal();
            counts[edges.partition_point(|&e| e <= x)] += 1;
            beyond3 += usize::from(x.abs() > 3.0);
            beyond_r += usize::from(x.abs() > ZIG_R);
        }
        let mut chi2 = 0.0;
        for (c, &count) in counts.iter().enumerate() {
            let lo = if c == 0 { 0.0 } else { cdf(edges[c - 1]) };
            let hi = if c == edges.len() { 1.0 } else { cdf(edges[c]) };
            let expected = (hi - lo) * n as f64;
            chi2 += (count as f64 - expected).powi(2) / expected;
        }
        // 41 degrees of freedom: the 99.99th percentile is about 83.
        assert!(chi2 < 83.0, "χ² = {chi2}");
        let p3 = 2.0 * cdf(-3.0) * n as f64;
        let pr = 2.0 * cdf(-ZIG_R) * n as f64;
        assert!(
            (beyond3 as f64 - p3).abs() < 5.0 * p3.sqrt(),
            "{beyond3} beyond ±3, expected {p3}"
        );
        assert!(
            (beyond_r as f64 - pr).abs() < 5.0 * pr.sqrt(),
            "{beyond_r} beyond ±R, expected {pr}"
        );
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
