//! The per-bar lane constants of the packed warm-up (`packed`), tabulated at compile time.

use super::{LONG, RSI, SHORT};

/// The lane constants of warm-up bar `t` (as `N`, `Q` and `FLAT` of `packed` for the counts of
/// bar `t`, see [`counts`](super::state::counts)) and the lanes from which a value leaves (all
/// bits set), tabulated so that a bar loads them instead of building them from its counts.
pub(super) struct WarmLanes {
    pub(super) n: [f64; 4],
    pub(super) q: [f64; 4],
    pub(super) flat: [f64; 4],
    pub(super) leaves: [f64; 4],
}

pub(super) const WARM_LANES: [WarmLanes; LONG] = {
    let set = f64::from_bits(u64::MAX);
    let mut lanes = [const {
        WarmLanes {
            n: [0.0; 4],
            q: [0.0; 4],
            flat: [0.0; 4],
            leaves: [0.0; 4],
        }
    }; LONG];
    let mut t = 1;
    while t < LONG {
        let c20 = if t + 1 < SHORT { t + 1 } else { SHORT };
        let c14 = if t < RSI { t } else { RSI };
        let (n20, n50, n14) = (c20 as f64, (t + 1) as f64, c14 as f64);
        lanes[t] = WarmLanes {
            n: [n20, n50, n14, n14],
            q: [INV[c20], INV[t + 1], n14, n14],
            flat: [1.0, 1.0, n14, n14],
            leaves: [
                if t >= SHORT { set } else { 0.0 },
                0.0,
                if t > RSI { set } else { 0.0 },
                if t > RSI { set } else { 0.0 },
            ],
        };
        t += 1;
    }
    lanes
};

/// `INV[n] = 1 / n`, as the scalar steps compute it (division is correctly rounded, at compile
/// time as at run time), so that the warm-up spends no division on it.
pub(super) const INV: [f64; LONG + 1] = {
    let mut inv = [0.0; LONG + 1];
    let mut n = 1;
    while n <= LONG {
        inv[n] = 1.0 / n as f64;
        n += 1;
    }
    inv
};
