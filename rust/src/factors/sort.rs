//! Sorting a cross-section by value, ties by index, so that the result is the same for any thread
//! count: an LSD radix sort on the high 32 bits of the order key packed with the index in one
//! `u64` (half the bytes and passes of sorting `(u64, u32)` pairs), then runs that share those
//! bits (rare but for exact ties) are ordered by the full key.

/// A `u64` whose unsigned order is `f64::total_cmp`'s order (one integer compare per step).
#[inline]
pub fn sort_key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// Digits of the 32-bit key: three passes (bit offset, width) instead of four bytes.
const DIGITS: [(u32, u32); 3] = [(0, 11), (11, 11), (22, 10)];

/// Fills `order` with the indices `i` of the finite `values` for which `keep(i)` holds, sorted
/// ascending by value in `f64::total_cmp` order, ties by index, and `sorted` with their values.
#[inline(always)]
pub fn sort_by_value(
    values: &[f64],
    keep: impl Fn(usize) -> bool,
    keys: &mut Vec<u64>,
    tmp: &mut Vec<u64>,
    order: &mut Vec<u32>,
    sorted: &mut Vec<f64>,
) {
    // Keys are written unconditionally and kept by advancing the count (no branch per name);
    // the digit histograms are counted on the way.
    keys.clear();
    keys.resize(values.len(), 0);
    let mut hist = [[0u32; 1 << 11]; 3];
    let mut n = 0;
    for (i, &v) in values.iter().enumerate() {
        let hi = sort_key(v) >> 32;
        keys[n] = (hi << 32) | i as u64;
        let kept = v.is_finite() && keep(i);
        for (h, &(shift, width)) in hist.iter_mut().zip(&DIGITS) {
            h[((hi >> shift) & ((1 << width) - 1)) as usize] += u32::from(kept);
        }
        n += usize::from(kept);
    }
    keys.truncate(n);
    radix_sort_high(keys, tmp, &mut hist);
    // Three plain loops (no capacity check per name, the first and last vectorise) rather than
    // one that pushes twice per name.
    order.clear();
    order.extend(keys.iter().map(|&p| p as u32));
    sorted.clear();
    sorted.extend(order.iter().map(|&k| values[k as usize]));
    let descents = sorted.windows(2).fold(false, |any, w| any | (w[1] < w[0]));
    if !descents {
        return;
    }
    // Only names sharing the high key bits (same sign) can be out of order, and then their values
    // descend: fix the run around each descent by the full keys.
    let full = |k: u32| (sort_key(values[k as usize]), k);
    let mut j = 1;
    while j < n {
        if sorted[j] >= sorted[j - 1] {
            j += 1;
            continue;
        }
        let hi = keys[j] >> 32;
        let mut a = j - 1;
        while a > 0 && keys[a - 1] >> 32 == hi {
            a -= 1;
        }
        let mut b = j + 1;
        while b < n && keys[b] >> 32 == hi {
            b += 1;
        }
        order[a..b].sort_unstable_by_key(|&k| full(k));
        for (v, &k) in sorted[a..b].iter_mut().zip(&order[a..b]) {
            *v = values[k as usize];
        }
        j = b;
    }
}

/// Sorts packed `key << 32 | index` values, given in ascending index order, by key (stable, so
/// ties stay in index order: the same order as `sort_unstable`), from the histograms of the key
/// digits. Digits that every key shares are skipped.
#[inline(always)]
fn radix_sort_high(keys: &mut Vec<u64>, tmp: &mut Vec<u64>, hist: &mut [[u32; 1 << 11]; 3]) {
    let n = keys.len();
    if n < 64 {
        keys.sort_unstable();
        return;
    }
    tmp.clear();
    tmp.resize(n, 0);
    let mut lo = [0u32; 1 << 11];
    for (h, &(shift, width)) in hist.iter_mut().zip(&DIGITS) {
        let h = &mut h[..1 << width];
        let lo = &mut lo[..1 << width];
        let first = ((keys[0] >> (32 + shift)) & ((1 << width) - 1)) as usize;
        if h[first] as usize == n {
            continue; // every key has the same digit here
        }
        // Counts to bucket ends, in place; `lo` gets the starts.
        let mut sum = 0;
        for (c, start) in h.iter_mut().zip(lo.iter_mut()) {
            *start = sum;
            sum += *c;
            *c = sum;
        }
        // Keys from the front fill their buckets upwards from the starts, keys from the back
        // downwards from the ends; they meet where the counts say. Equal digits come in long runs
        // (rounded or tied values), and one running offset per bucket chained every key of a
        // run through a store and a load; two halves make two independent chains. The order
        // within a bucket is the keys' order either way: the sort stays stable.
        let mask = (1u64 << width) - 1;
        let digit = |k: u64| ((k >> (32 + shift)) & mask) as usize;
        let (src, dst) = (&keys[..n], &mut tmp[..n]);
        let half = n / 2;
        for j in 0..half {
            let (a, b) = (src[j], src[n - 1 - j]);
            let (da, db) = (digit(a), digit(b));
            dst[lo[da] as usize] = a;
            lo[da] += 1;
            h[db] -= 1;
            dst[h[db] as usize] = b;
        }
        if n % 2 == 1 {
            let a = src[half];
            dst[lo[digit(a)] as usize] = a;
        }
        std::mem::swap(keys, tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_by_value_is_total_order_then_index() {
        let mut state = 12345u64;
        for n in [0usize, 5, 63, 64, 500, 3000] {
            let values: Vec<f64> = (0..n as u32)
                .map(|i| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let v = ((state >> 33) % 97) as f64 - 40.0 + if i % 3 == 0 { 0.5 } else { 0.0 };
                    // Values that share the high 32 key bits but differ below them.
                    let v = if i % 5 == 0 {
                        v + 1e-12 * f64::from(i % 4)
                    } else {
                        v
                    };
                    if i % 7 == 0 {
                        -0.0
                    } else {
                        v
                    }
                })
                .collect();
            let mut expected: Vec<u32> = (0..n as u32).collect();
            expected.sort_by(|&a, &b| {
                values[a as usize]
                    .total_cmp(&values[b as usize])
                    .then(a.cmp(&b))
            });
            let (mut keys, mut tmp, mut order, mut sorted) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            sort_by_value(
                &values,
                |_| true,
                &mut keys,
                &mut tmp,
                &mut order,
                &mut sorted,
            );
            assert_eq!(order, expected);
            let by_order: Vec<f64> = order.iter().map(|&k| values[k as usize]).collect();
            assert_eq!(sorted, by_order);
        }
    }
}
