//! ChaCha8 (Bernstein 2008), the market's random bits: the stream of `rand_chacha`'s
//! `ChaCha8Rng` read by `next_u64` (a test compares them word for word), computed four
//! blocks at a time with the blocks in the lanes of 128-bit vectors.
//!
//! The state is the usual one: the four constants, the 256-bit key (little-endian words),
//! a 64-bit block counter (words 12–13) and a 64-bit stream number (words 14–15). A refill
//! computes blocks `c … c+3` and a `u64` is two consecutive words, low first.
//!
//! `rand_chacha` has SIMD code for x86 only; elsewhere, and in WebAssembly in particular,
//! it runs a block at a time in scalar code, where the market's draws were about a tenth
//! of a simulated path (a path of the six-policy example: 11.7 → 10.3 ms under node with
//! this generator). The lanes are `v128` vectors in WebAssembly built with `simd128`,
//! SSE2 vectors on x86-64 (2.2 ns a `u64`, `rand_chacha` 2.5 ns) and `[u32; 4]` arrays
//! elsewhere.

/// `"expand 32-byte k"`.
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// Words in a refill: four 16-word blocks.
const WORDS: usize = 64;

/// `u64`s in a refill.
const BUF: usize = WORDS / 2;

/// Four `u32` lanes, one per block of a refill.
trait Lanes: Copy {
    fn splat(x: u32) -> Self;
    fn from_array(x: [u32; 4]) -> Self;
    fn to_array(self) -> [u32; 4];
    fn add(self, o: Self) -> Self;
    fn xor(self, o: Self) -> Self;
    fn rotl<const N: u32>(self) -> Self;
    /// The 4×4 transpose: lane `i` of output `j` is lane `j` of input `i`.
    fn transpose(v: [Self; 4]) -> [Self; 4] {
        let a = v.map(Self::to_array);
        std::array::from_fn(|j| Self::from_array(std::array::from_fn(|i| a[i][j])))
    }
}

impl Lanes for [u32; 4] {
    #[inline(always)]
    fn splat(x: u32) -> Self {
        [x; 4]
    }
    #[inline(always)]
    fn from_array(x: [u32; 4]) -> Self {
        x
    }
    #[inline(always)]
    fn to_array(self) -> [u32; 4] {
        self
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        [
            self[0].wrapping_add(o[0]),
            self[1].wrapping_add(o[1]),
            self[2].wrapping_add(o[2]),
            self[3].wrapping_add(o[3]),
        ]
    }
    #[inline(always)]
    fn xor(self, o: Self) -> Self {
        [
            self[0] ^ o[0],
            self[1] ^ o[1],
            self[2] ^ o[2],
            self[3] ^ o[3],
        ]
    }
    #[inline(always)]
    fn rotl<const N: u32>(self) -> Self {
        [
            self[0].rotate_left(N),
            self[1].rotate_left(N),
            self[2].rotate_left(N),
            self[3].rotate_left(N),
        ]
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::{
        i32x4_shuffle, i64x2_shuffle, u32x4, u32x4_add, u32x4_extract_lane, u32x4_shl, u32x4_shr,
        u32x4_splat, v128, v128_or, v128_xor,
    };

    impl super::Lanes for v128 {
        #[inline(always)]
        fn splat(x: u32) -> Self {
            u32x4_splat(x)
        }
        #[inline(always)]
        fn from_array(x: [u32; 4]) -> Self {
            u32x4(x[0], x[1], x[2], x[3])
        }
        #[inline(always)]
        fn to_array(self) -> [u32; 4] {
            [
                u32x4_extract_lane::<0>(self),
                u32x4_extract_lane::<1>(self),
                u32x4_extract_lane::<2>(self),
                u32x4_extract_lane::<3>(self),
            ]
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            u32x4_add(self, o)
        }
        #[inline(always)]
        fn xor(self, o: Self) -> Self {
            v128_xor(self, o)
        }
        #[inline(always)]
        fn rotl<const N: u32>(self) -> Self {
            v128_or(u32x4_shl(self, N), u32x4_shr(self, 32 - N))
        }
        #[inline(always)]
        fn transpose(v: [Self; 4]) -> [Self; 4] {
            let t0 = i32x4_shuffle::<0, 4, 1, 5>(v[0], v[1]);
            let t1 = i32x4_shuffle::<0, 4, 1, 5>(v[2], v[3]);
            let t2 = i32x4_shuffle::<2, 6, 3, 7>(v[0], v[1]);
            let t3 = i32x4_shuffle::<2, 6, 3, 7>(v[2], v[3]);
            [
                i64x2_shuffle::<0, 2>(t0, t1),
                i64x2_shuffle::<1, 3>(t0, t1),
                i64x2_shuffle::<0, 2>(t2, t3),
                i64x2_shuffle::<1, 3>(t2, t3),
            ]
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use core::arch::x86_64::{
        __m128i, _mm_add_epi32, _mm_cvtsi32_si128, _mm_or_si128, _mm_set1_epi32, _mm_set_epi32,
        _mm_shufflehi_epi16, _mm_shufflelo_epi16, _mm_sll_epi32, _mm_srl_epi32, _mm_storeu_si128,
        _mm_unpackhi_epi32, _mm_unpackhi_epi64, _mm_unpacklo_epi32, _mm_unpacklo_epi64,
        _mm_xor_si128,
    };

    impl super::Lanes for __m128i {
        #[inline(always)]
        fn splat(x: u32) -> Self {
            // SAFETY: SSE2 is part of every x86-64 target.
            unsafe { _mm_set1_epi32(x as i32) }
        }
        #[inline(always)]
        fn from_array(x: [u32; 4]) -> Self {
            // SAFETY: SSE2 is part of every x86-64 target.
            unsafe { _mm_set_epi32(x[3] as i32, x[2] as i32, x[1] as i32, x[0] as i32) }
        }
        #[inline(always)]
        fn to_array(self) -> [u32; 4] {
            let mut out = [0u32; 4];
            // SAFETY: `out` is 16 writable bytes; `storeu` has no alignment requirement.
            unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), self) };
            out
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            // SAFETY: SSE2 is part of every x86-64 target.
            unsafe { _mm_add_epi32(self, o) }
        }
        #[inline(always)]
        fn xor(self, o: Self) -> Self {
            // SAFETY: SSE2 is part of every x86-64 target.
            unsafe { _mm_xor_si128(self, o) }
        }
        #[inline(always)]
        fn rotl<const N: u32>(self) -> Self {
            // SAFETY: SSE2 is part of every x86-64 target.
            unsafe {
                match N {
                    // Half-word swaps in each lane.
                    16 => _mm_shufflehi_epi16::<0b10_11_00_01>(
                        _mm_shufflelo_epi16::<0b10_11_00_01>(self),
                    ),
                    // Any other count: shifts by a count register (an immediate shift
                    // would need `32 − N` as a const argument).
                    _ => _mm_or_si128(
                        _mm_sll_epi32(self, _mm_cvtsi32_si128(N as i32)),
                        _mm_srl_epi32(self, _mm_cvtsi32_si128(32 - N as i32)),
                    ),
                }
            }
        }
        #[inline(always)]
        fn transpose(v: [Self; 4]) -> [Self; 4] {
            // SAFETY: SSE2 is part of every x86-64 target.
            unsafe {
                let t0 = _mm_unpacklo_epi32(v[0], v[1]);
                let t1 = _mm_unpacklo_epi32(v[2], v[3]);
                let t2 = _mm_unpackhi_epi32(v[0], v[1]);
                let t3 = _mm_unpackhi_epi32(v[2], v[3]);
                [
                    _mm_unpacklo_epi64(t0, t1),
                    _mm_unpackhi_epi64(t0, t1),
                    _mm_unpacklo_epi64(t2, t3),
                    _mm_unpackhi_epi64(t2, t3),
                ]
            }
        }
    }
}

/// The lanes this target computes with.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type V = core::arch::wasm32::v128;
#[cfg(target_arch = "x86_64")]
type V = core::arch::x86_64::__m128i;
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
type V = [u32; 4];

/// The quarter round on words `a, b, c, d` of the four blocks.
#[inline(always)]
fn quarter<L: Lanes>(x: &mut [L; 16], a: usize, b: usize, c: usize, d: usize) {
    x[a] = x[a].add(x[b]);
    x[d] = x[d].xor(x[a]).rotl::<16>();
    x[c] = x[c].add(x[d]);
    x[b] = x[b].xor(x[c]).rotl::<12>();
    x[a] = x[a].add(x[b]);
    x[d] = x[d].xor(x[a]).rotl::<8>();
    x[c] = x[c].add(x[d]);
    x[b] = x[b].xor(x[c]).rotl::<7>();
}

/// Blocks `counter … counter+3` of (`key`, `stream`) after 8 rounds, block after block.
#[inline(always)]
fn blocks<L: Lanes>(key: &[u32; 8], counter: u64, stream: u64, out: &mut [u32; WORDS]) {
    let ctr: [u64; 4] = std::array::from_fn(|i| counter.wrapping_add(i as u64));
    let init: [L; 16] = std::array::from_fn(|w| match w {
        0..=3 => L::splat(SIGMA[w]),
        4..=11 => L::splat(key[w - 4]),
        12 => L::from_array(ctr.map(|c| c as u32)),
        13 => L::from_array(ctr.map(|c| (c >> 32) as u32)),
        14 => L::splat(stream as u32),
        _ => L::splat((stream >> 32) as u32),
    });
    let mut x = init;
    for _ in 0..4 {
        quarter(&mut x, 0, 4, 8, 12);
        quarter(&mut x, 1, 5, 9, 13);
        quarter(&mut x, 2, 6, 10, 14);
        quarter(&mut x, 3, 7, 11, 15);
        quarter(&mut x, 0, 5, 10, 15);
        quarter(&mut x, 1, 6, 11, 12);
        quarter(&mut x, 2, 7, 8, 13);
        quarter(&mut x, 3, 4, 9, 14);
    }
    for g in 0..4 {
        let words = L::transpose(std::array::from_fn(|i| x[4 * g + i].add(init[4 * g + i])));
        for (b, v) in words.into_iter().enumerate() {
            out[16 * b + 4 * g..16 * b + 4 * g + 4].copy_from_slice(&v.to_array());
        }
    }
}

/// A ChaCha8 stream: `rand_chacha::ChaCha8Rng::from_seed(key)` after
/// `set_stream(stream)`, read by `next_u64`.
#[derive(Clone)]
pub(crate) struct ChaCha8 {
    key: [u32; 8],
    stream: u64,
    /// The first block of the next refill.
    counter: u64,
    /// The refill's words in pairs, the first the low half.
    buf: [u64; BUF],
    /// The next unread pair of `buf` (`BUF`: none left).
    next: usize,
}

impl ChaCha8 {
    /// The stream `stream` of key `key` (32 bytes, read as little-endian words).
    pub(crate) fn new(key: [u8; 32], stream: u64) -> ChaCha8 {
        let key = std::array::from_fn(|i| {
            u32::from_le_bytes([key[4 * i], key[4 * i + 1], key[4 * i + 2], key[4 * i + 3]])
        });
        ChaCha8 {
            key,
            stream,
            counter: 0,
            buf: [0; BUF],
            next: BUF,
        }
    }

    /// The next 64 bits: two words, the first the low half.
    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        if self.next >= BUF {
            self.refill();
        }
        let x = self.buf[self.next];
        self.next += 1;
        x
    }

    fn refill(&mut self) {
        let mut words = [0u32; WORDS];
        blocks::<V>(&self.key, self.counter, self.stream, &mut words);
        for (x, w) in self.buf.iter_mut().zip(words.chunks_exact(2)) {
            *x = (u64::from(w[1]) << 32) | u64::from(w[0]);
        }
        self.counter = self.counter.wrapping_add(4);
        self.next = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::{Rng, SeedableRng};

    fn reference(key: [u8; 32], stream: u64) -> rand_chacha::ChaCha8Rng {
        let mut r = rand_chacha::ChaCha8Rng::from_seed(key);
        r.set_stream(stream);
        r
    }

    #[test]
    fn is_rand_chachas_stream() {
        let keys: [[u8; 32]; 3] = [
            [0; 32],
            std::array::from_fn(|i| i as u8),
            std::array::from_fn(|i| (i as u8).wrapping_mul(151).wrapping_add(7)),
        ];
        for key in keys {
            for stream in [0, 1, 499, u64::MAX] {
                let (mut ours, mut theirs) = (ChaCha8::new(key, stream), reference(key, stream));
                // 10,000 words: 157 refills.
                for i in 0..5_000 {
                    assert_eq!(
                        ours.next_u64(),
                        theirs.next_u64(),
                        "stream {stream}, draw {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn carries_the_block_counter_into_its_high_word() {
        let key = [9u8; 32];
        let mut ours = ChaCha8::new(key, 3);
        ours.counter = u64::from(u32::MAX) - 1;
        let mut theirs = reference(key, 3);
        theirs.set_word_pos(u128::from(ours.counter) * 16);
        for i in 0..200 {
            assert_eq!(ours.next_u64(), theirs.next_u64(), "draw {i}");
        }
    }

    #[test]
    fn portable_lanes_compute_the_same_blocks() {
        let key: [u32; 8] = std::array::from_fn(|i| 0x9e37_79b9u32.wrapping_mul(i as u32 + 1));
        for (counter, stream) in [
            (0, 0),
            (5, 7),
            (u64::from(u32::MAX) - 2, 1),
            (u64::MAX - 1, 3),
        ] {
            let (mut fast, mut portable) = ([0u32; WORDS], [0u32; WORDS]);
            blocks::<V>(&key, counter, stream, &mut fast);
            blocks::<[u32; 4]>(&key, counter, stream, &mut portable);
            assert_eq!(fast, portable, "counter {counter}, stream {stream}");
        }
    }

    /// RFC 7539's block test vector, at 8 rounds: the quarter round's rotations and the
    /// state's layout, independently of `rand_chacha`.
    #[test]
    fn quarter_round_matches_rfc_7539() {
        // RFC 7539 §2.1.1.
        let mut x: [[u32; 4]; 16] = [[0; 4]; 16];
        x[0] = [0x1111_1111; 4];
        x[4] = [0x0102_0304; 4];
        x[8] = [0x9b8d_6f43; 4];
        x[12] = [0x0123_4567; 4];
        quarter(&mut x, 0, 4, 8, 12);
        assert_eq!(x[0][0], 0xea2a_92f4);
        assert_eq!(x[4][0], 0xcb1c_f8ce);
        assert_eq!(x[8][0], 0x4581_472e);
        assert_eq!(x[12][0], 0x5881_c4bb);
    }
}
