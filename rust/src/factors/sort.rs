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

/// Fills `order` with `items` (ascending indices) sorted ascending by `value` in
/// `f64::total_cmp` order, ties by index, and `sorted` with their values.
pub fn sort_by_value(
    items: impl Iterator<Item = u32>,
    value: impl Fn(u32) -> f64,
    keys: &mut Vec<u64>,
    tmp: &mut Vec<u64>,
    order: &mut Vec<u32>,
    sorted: &mut Vec<f64>,
) {
    keys.clear();
    keys.extend(items.map(|k| (sort_key(value(k)) & !0xffff_ffff) | u64::from(k)));
    let n = keys.len();
    radix_sort_high(keys, tmp);
    order.clear();
    order.extend(keys.iter().map(|&p| p as u32));
    sorted.clear();
    sorted.extend(order.iter().map(|&k| value(k)));
    // Only names sharing the high key bits (same sign) can be out of order, and then their values
    // descend: one branch-free scan finds whether any run needs its full keys.
    let descents = sorted.windows(2).any(|w| w[1] < w[0]);
    if !descents {
        return;
    }
    let mut i = 0;
    while i < n {
        let hi = keys[i] >> 32;
        let mut j = i + 1;
        while j < n && keys[j] >> 32 == hi {
            j += 1;
        }
        if sorted[i..j].windows(2).any(|w| w[1] < w[0]) {
            order[i..j].sort_unstable_by_key(|&k| (sort_key(value(k)), k));
            for (v, &k) in sorted[i..j].iter_mut().zip(&order[i..j]) {
                *v = value(k);
            }
        }
        i = j;
    }
}

/// Digits of the 32-bit key: three passes (bit offset, width) instead of four bytes.
const DIGITS: [(u32, u32); 3] = [(0, 11), (11, 11), (22, 10)];

/// Sorts packed `key << 32 | index` values, given in ascending index order, by key (stable, so
/// ties stay in index order: the same order as `sort_unstable`). Digits that every key shares
/// are skipped.
fn radix_sort_high(keys: &mut Vec<u64>, tmp: &mut Vec<u64>) {
    let n = keys.len();
    if n < 64 {
        keys.sort_unstable();
        return;
    }
    let mut hist = [[0u32; 1 << 11]; 3];
    for &k in keys.iter() {
        let hi = (k >> 32) as u32;
        for (h, &(shift, width)) in hist.iter_mut().zip(&DIGITS) {
            h[((hi >> shift) & ((1 << width) - 1)) as usize] += 1;
        }
    }
    tmp.clear();
    tmp.resize(n, 0);
    for (h, &(shift, width)) in hist.iter_mut().zip(&DIGITS) {
        let h = &mut h[..1 << width];
        let first = ((keys[0] >> (32 + shift)) & ((1 << width) - 1)) as usize;
        if h[first] as usize == n {
            continue; // every key has the same digit here
        }
        // Counts to starting offsets, in place.
        let mut sum = 0;
        for c in h.iter_mut() {
            let count = *c;
            *c = sum;
            sum += count;
        }
        let mask = (1u64 << width) - 1;
        for &k in keys.iter() {
            let d = ((k >> (32 + shift)) & mask) as usize;
            tmp[h[d] as usize] = k;
            h[d] += 1;
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
                0..n as u32,
                |k| values[k as usize],
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
