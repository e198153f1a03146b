//! Sorting a cross-section by value: `(key, index)` pairs with an LSD radix sort, so that ties
//! keep index order and the result is the same for any thread count.

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

/// Fills `order` with `items` (ascending indices) sorted ascending by `value`, ties by index.
pub fn sort_by_value(
    items: impl Iterator<Item = u32>,
    value: impl Fn(u32) -> f64,
    keys: &mut Vec<(u64, u32)>,
    tmp: &mut Vec<(u64, u32)>,
    order: &mut Vec<u32>,
) {
    keys.clear();
    keys.extend(items.map(|k| (sort_key(value(k)), k)));
    radix_sort(keys, tmp);
    order.clear();
    order.extend(keys.iter().map(|&(_, k)| k));
}

/// Sorts `(key, index)` pairs given in ascending index order by key, ties by index: a stable LSD
/// radix sort on bytes, skipping the bytes all keys share (the same order as `sort_unstable`).
pub fn radix_sort(keys: &mut Vec<(u64, u32)>, tmp: &mut Vec<(u64, u32)>) {
    let n = keys.len();
    if n < 64 {
        keys.sort_unstable();
        return;
    }
    let mut hist = [[0usize; 256]; 8];
    for &(k, _) in keys.iter() {
        for (b, h) in hist.iter_mut().enumerate() {
            h[((k >> (8 * b)) & 0xff) as usize] += 1;
        }
    }
    tmp.clear();
    tmp.resize(n, (0, 0));
    for (b, h) in hist.iter().enumerate() {
        if h.contains(&n) {
            continue; // every key has the same byte here
        }
        let mut offset = [0usize; 256];
        let mut sum = 0;
        for (o, &c) in offset.iter_mut().zip(h.iter()) {
            *o = sum;
            sum += c;
        }
        for &(k, i) in keys.iter() {
            let d = ((k >> (8 * b)) & 0xff) as usize;
            tmp[offset[d]] = (k, i);
            offset[d] += 1;
        }
        std::mem::swap(keys, tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_sort_equals_sort_unstable() {
        let mut state = 12345u64;
        for n in [0usize, 5, 63, 64, 500, 3000] {
            let mut keys: Vec<(u64, u32)> = (0..n as u32)
                .map(|i| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let v = ((state >> 33) % 97) as f64 - 40.0 + if i % 3 == 0 { 0.5 } else { 0.0 };
                    (sort_key(if i % 7 == 0 { -0.0 } else { v }), i)
                })
                .collect();
            let mut expected = keys.clone();
            expected.sort_unstable();
            let mut tmp = Vec::new();
            radix_sort(&mut keys, &mut tmp);
            assert_eq!(keys, expected);
        }
    }
}
