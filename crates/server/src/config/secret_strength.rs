//! Whether a configured signing secret is strong enough for production.

/// The seed's example secret; never acceptable in production.
pub(super) const SEED_EXAMPLE_SECRET: &str = "your-secret-key-change-in-production";
pub(super) const MIN_PRODUCTION_SECRET: usize = 32;
/// Least estimated randomness of a production secret, in bits: every output of
/// `openssl rand -base64 48` (and of `-hex 16`) scores far above it, while repeated,
/// sequential or few distinct characters score far below.
pub(super) const MIN_PRODUCTION_SECRET_BITS: f64 = 80.0;
pub(super) const MAKE_A_SECRET: &str = "make one with `openssl rand -base64 48`";

/// An upper estimate of the randomness in `secret`, in bits, from the secret alone:
/// only its shortest repeating unit counts (`changemechangeme` is `changeme`), and
/// each character of it counts the smaller of the entropy of its characters and
/// that of the steps between neighbours (so `aaaa…`, `abab…` and `abcd…` score
/// near zero). It refuses the obvious; a phrase can still score high, so a secret
/// should come from a generator.
pub(super) fn estimated_entropy_bits(secret: &str) -> f64 {
    let chars: Vec<char> = secret.chars().collect();
    let repeats_every = |p: usize| (p..chars.len()).all(|i| chars[i] == chars[i - p]);
    let period = (1..chars.len()).find(|&p| repeats_every(p)).unwrap_or(chars.len());
    let unit = &chars[..period];
    let steps: Vec<i64> = unit.windows(2).map(|w| i64::from(u32::from(w[1])) - i64::from(u32::from(w[0]))).collect();
    unit.len() as f64 * shannon_bits(unit).min(shannon_bits(&steps))
}

/// Shannon entropy per item of the distribution of `items`, in bits.
fn shannon_bits<T: Ord>(items: &[T]) -> f64 {
    let mut counts = std::collections::BTreeMap::new();
    for item in items {
        *counts.entry(item).or_insert(0usize) += 1;
    }
    let total = items.len() as f64;
    counts.values().map(|&n| n as f64 / total).map(|p| -p * p.log2()).sum()
}
