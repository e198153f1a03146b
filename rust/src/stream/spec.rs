//! What a stream computes: one [`Spec`] per indicator, validated once, and the state ([`Node`])
//! it keeps per symbol. Each node advances by the very functions the batch kernels call per bar
//! (`Window::slide_at`, `Cutler::slide_at`, `Ema::update`, ...), on the symbol's recent history,
//! so a stream cannot drift from the batch result.

use crate::bbands::{bands_need, bands_value};
use crate::convention::Convention;
use crate::ema::{Ema, Macd};
use crate::error::{check_at_least, check_finite_param, Error, Result};
use crate::range::{natr_value, true_range_at, Atr};
use crate::rolling::{check_window, mean_value};
use crate::rsi::{change, Cutler, Wilder};
use crate::standard::{Series, OUTPUTS};
use crate::window::Window;

/// One indicator of a stream, with its parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum Spec {
    /// The fused standard set (pandas convention): sma20, sma50, rsi14, bb middle/upper/lower.
    Standard,
    Sma {
        period: usize,
        min_periods: usize,
    },
    Ema {
        period: usize,
        convention: Convention,
    },
    Rsi {
        period: usize,
        min_periods: usize,
        convention: Convention,
    },
    Bollinger {
        period: usize,
        k: f64,
        ddof: usize,
        min_periods: usize,
    },
    Macd {
        fast: usize,
        slow: usize,
        signal: usize,
        convention: Convention,
    },
    Atr {
        period: usize,
        convention: Convention,
        normalised: bool,
    },
}

/// Per-symbol state of one [`Spec`].
#[derive(Clone, Debug)]
// Nodes live in one flat array per stream; boxing the large standard state would add a pointer
// chase per bar for the common case.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Node {
    Standard(Series),
    Sma(Window<false>),
    Ema(Ema),
    Cutler(Cutler),
    Wilder(Wilder),
    Bollinger(Window<true>),
    Macd(Macd),
    Atr(Atr),
}

impl Spec {
    /// Checks the parameters with the batch kernels' rules.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Spec::Standard => Ok(()),
            Spec::Sma {
                period,
                min_periods,
            } => {
                check_at_least("period", period, 1)?;
                check_window(period, min_periods)
            }
            Spec::Ema { period, .. } => check_at_least("period", period, 1),
            Spec::Rsi {
                period,
                min_periods,
                ..
            } => {
                check_at_least("period", period, 1)?;
                check_window(period, min_periods)
            }
            Spec::Bollinger {
                period,
                k,
                ddof,
                min_periods,
            } => {
                check_at_least("period", period, 1)?;
                check_window(period, min_periods)?;
                check_finite_param("k", k)?;
                if ddof >= period && period > 1 {
                    return Err(Error::param(
                        "ddof",
                        ddof,
                        format!("an integer below period={period}"),
                    ));
                }
                Ok(())
            }
            Spec::Macd {
                fast, slow, signal, ..
            } => {
                check_at_least("fast", fast, 1)?;
                check_at_least("slow", slow, 1)?;
                check_at_least("signal", signal, 1)
            }
            Spec::Atr { period, .. } => check_at_least("period", period, 1),
        }
    }

    /// Number of output values per symbol and bar.
    pub fn outputs(&self) -> usize {
        match self {
            Spec::Standard => OUTPUTS,
            Spec::Bollinger { .. } | Spec::Macd { .. } => 3,
            _ => 1,
        }
    }

    /// Bars of history the node reads at bar `t` (`x[t - keep + 1..=t]`). A window of `p`
    /// changes reads `p + 1` prices back, and one more keeps `change(x, 0)` (NaN: no previous
    /// bar) apart from a change whose previous bar merely left the buffer.
    pub fn keep(&self) -> usize {
        match *self {
            Spec::Standard => crate::standard::LONG + 1,
            Spec::Sma { period, .. } | Spec::Bollinger { period, .. } => period + 1,
            Spec::Rsi { period, .. } => period + 2,
            Spec::Ema { .. } | Spec::Macd { .. } | Spec::Atr { .. } => 2,
        }
    }

    /// Whether the node reads highs and lows.
    pub fn needs_high_low(&self) -> bool {
        matches!(self, Spec::Atr { .. })
    }

    /// The state of a symbol that has seen no bar.
    pub(crate) fn node(&self) -> Node {
        match *self {
            Spec::Standard => Node::Standard(Series::default()),
            Spec::Sma { .. } => Node::Sma(Window::new()),
            Spec::Ema { period, convention } => Node::Ema(Ema::new(period, convention)),
            Spec::Rsi {
                period, convention, ..
            } => match convention {
                Convention::Pandas => Node::Cutler(Cutler::default()),
                Convention::Talib => Node::Wilder(Wilder::new(period)),
            },
            Spec::Bollinger { .. } => Node::Bollinger(Window::new()),
            Spec::Macd {
                fast,
                slow,
                signal,
                convention,
            } => Node::Macd(Macd::new(fast, slow, signal, convention)),
            Spec::Atr { period, .. } => Node::Atr(Atr::new(period)),
        }
    }
}

/// The recent history of one symbol: closes, highs and lows up to bar `t` (relative).
pub(crate) struct Bars<'a> {
    pub close: &'a [f64],
    pub high: &'a [f64],
    pub low: &'a [f64],
    pub t: usize,
    /// Consecutive valid closes ending at `t` (counted up to the buffer's capacity).
    pub valid_run: usize,
}

impl Node {
    /// Advances the node by bar `b.t` and writes its outputs (`spec.outputs()` values).
    #[inline]
    pub(crate) fn step(&mut self, spec: &Spec, b: &Bars<'_>, out: &mut [f64]) {
        let (x, t) = (b.close, b.t);
        match (self, spec) {
            (Node::Standard(s), _) => {
                let v = if b.valid_run > crate::standard::LONG {
                    s.step_full(x, t)
                } else {
                    s.step(x, t)
                };
                out.copy_from_slice(&v);
            }
            (
                Node::Sma(w),
                &Spec::Sma {
                    period,
                    min_periods,
                },
            ) => {
                w.slide_at(x, t, period);
                out[0] = mean_value(w, min_periods);
            }
            (Node::Ema(e), _) => out[0] = e.update(x[t]),
            (
                Node::Cutler(c),
                &Spec::Rsi {
                    period,
                    min_periods,
                    ..
                },
            ) => {
                c.slide_at(x, t, period);
                out[0] = c.output(min_periods.max(1));
            }
            (Node::Wilder(w), _) => out[0] = w.update(change(x, t)),
            (
                Node::Bollinger(w),
                &Spec::Bollinger {
                    period,
                    k,
                    ddof,
                    min_periods,
                },
            ) => {
                w.slide_at(x, t, period);
                out.copy_from_slice(&bands_value(w, bands_need(ddof, min_periods), k, ddof));
            }
            (Node::Macd(m), &Spec::Macd { convention, .. }) => {
                let (a, s, h) = m.update(x[t], convention);
                out.copy_from_slice(&[a, s, h]);
            }
            (
                Node::Atr(a),
                &Spec::Atr {
                    period,
                    convention,
                    normalised,
                },
            ) => {
                let v = a.update(true_range_at(b.high, b.low, x, t, convention));
                // The batch kernel's NATR(1) quirk of TA-Lib 0.8.1 (docs/conventions.md).
                let normalise = normalised && !(convention == Convention::Talib && period == 1);
                out[0] = if normalise {
                    natr_value(v, x[t], convention)
                } else {
                    v
                };
            }
            // Nodes are built from their spec (`Spec::node`) and never change variant.
            _ => out.fill(f64::NAN),
        }
    }
}
