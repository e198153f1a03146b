"""Plain NumPy/SciPy versions of every risk-model step, computed afresh for each date and asset
from explicit weight vectors (no recursions), the test oracle of ``ferroquant.factors.risk_*``."""

from __future__ import annotations

import numpy as np
import scipy.linalg
from numpy.typing import NDArray

F64 = NDArray[np.float64]


def lam(half_life: float) -> float:
    return 0.5 ** (1.0 / half_life) if half_life > 0 else 1.0


def simple_returns(close: F64) -> F64:
    r = np.full_like(close, np.nan)
    r[:, 1:] = close[:, 1:] / close[:, :-1] - 1.0
    return r


def market_return(close: F64, weights: F64 | None) -> F64:
    r = simple_returns(close)
    w = np.ones_like(close) if weights is None else weights
    wp = np.full_like(w, np.nan)
    wp[:, 1:] = w[:, :-1]
    ok = np.isfinite(r) & np.isfinite(wp) & (wp > 0)
    num = np.where(ok, wp * np.where(ok, r, 0), 0).sum(0)
    den = np.where(ok, wp, 0).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _window(series: F64, t: int, w: int, hl: float, skip: int = 0) -> tuple[F64, F64]:
    """Values and EW weights of dates t-skip-w+1 .. t-skip that are finite."""
    hi = t - skip
    lo = max(hi - w + 1, 0)
    if hi < 0:
        return np.empty(0), np.empty(0)
    vals = series[lo : hi + 1]
    ages = hi - np.arange(lo, hi + 1)
    wts = lam(hl) ** ages
    ok = np.isfinite(vals)
    return vals[ok], wts[ok]


def descriptors(close: F64, activity: F64 | None, weights: F64 | None, frac: float = 0.5) -> F64:
    """The seven Rust descriptors (beta, resvol, vol, momentum, reversal, liquidity, size proxy)."""
    n, t = close.shape
    m = market_return(close, weights)
    r = simple_returns(close)
    lr = np.log1p(r)
    out = np.full((7, n, t), np.nan)
    need = lambda w, floor=1: max(int(np.ceil(frac * w)), floor)  # noqa: E731
    for i in range(n):
        pair = np.where(np.isfinite(m), r[i], np.nan)
        for s in range(t):
            lo = max(s - 251, 0)
            idx = np.arange(lo, s + 1)
            ok = np.isfinite(pair[idx])
            if ok.sum() >= need(252, 3):
                wts = lam(63) ** (s - idx[ok])
                x, y = m[idx[ok]], r[i, idx[ok]]
                wn = wts / wts.sum()
                mx, my = wn @ x, wn @ y
                vxx = wn @ ((x - mx) ** 2)
                cxy = wn @ ((x - mx) * (y - my))
                if vxx > 0:
                    b = cxy / vxx
                    out[0, i, s] = b
                    res = y - my - b * (x - mx)
                    out[1, i, s] = np.sqrt(wn @ (res**2))
            v, wv = _window(r[i], s, 252, 42)
            if len(v) >= need(252, 2):
                wn = wv / wv.sum()
                mu = wn @ v
                out[2, i, s] = np.sqrt(wn @ ((v - mu) ** 2))
            v, wv = _window(lr[i], s, 504, 126, skip=21)
            if len(v) >= need(504):
                out[3, i, s] = wv @ v
            v, wv = _window(lr[i], s, 21, 5)
            if len(v) >= need(21):
                out[4, i, s] = wv @ v
            if activity is not None:
                logs = []
                for w in (21, 63, 252):
                    v, _ = _window(activity[i], s, w, 0)
                    mean = v.mean() if len(v) else np.nan
                    logs.append(np.log(mean) if len(v) >= need(w) and mean > 0 else np.nan)
                out[5, i, s] = np.mean(logs)
                out[6, i, s] = logs[2]
    return out


def _wmean(x: F64, w: F64 | None) -> float:
    if w is not None:
        ok = np.isfinite(w) & (w > 0)
        if ok.any():
            return float((w[ok] * x[ok]).sum() / w[ok].sum())
    return float(x.mean())


def zscore(x: F64, w: F64 | None, winsor: float) -> F64:
    if len(x) < 2:
        return np.zeros_like(x)
    sd = x.std(ddof=1)
    if winsor > 0 and sd > 0:
        mu = _wmean(x, w)
        x = np.clip(x, mu - winsor * sd, mu + winsor * sd)
        sd = x.std(ddof=1)
    if not sd > 0:
        return np.zeros_like(x)
    return (x - _wmean(x, w)) / sd


def standardize(
    raw: F64,
    caps: F64 | None,
    universe: NDArray[np.bool_],
    winsor: float,
    min_valid: int,
    orth: list[tuple[int, list[int]]],
) -> tuple[F64, F64, F64]:
    k, n, t = raw.shape
    out = np.full_like(raw, np.nan)
    imputed = np.zeros((k, t))
    dropped = np.zeros(t)
    for d in range(t):
        x = raw[:, :, d]
        valid = np.isfinite(x).sum(0)
        kept = universe[:, d] & (valid >= min_valid)
        dropped[d] = (universe[:, d] & ~kept).sum()
        w = None if caps is None else caps[:, d]
        z = np.full((k, n), np.nan)
        for s in range(k):
            sel = kept & np.isfinite(x[s])
            z[s, sel] = zscore(x[s, sel], None if w is None else w[sel], winsor)
            miss = kept & ~sel
            z[s, miss] = 0.0
            imputed[s, d] = miss.sum()
        for target, regs in orth:
            ww = (
                np.ones(kept.sum())
                if w is None
                else np.where(np.isfinite(w[kept]) & (w[kept] > 0), w[kept], 0.0)
            )
            if not (ww > 0).any():
                ww = np.ones_like(ww)
            a = np.column_stack([np.ones(kept.sum()), *(z[r, kept] for r in regs)])
            sw = np.sqrt(ww)
            beta = np.linalg.lstsq(a * sw[:, None], z[target, kept] * sw, rcond=None)[0]
            res = z[target, kept] - a @ beta
            z[target, kept] = zscore(res, None if w is None else w[kept], 0.0)
        out[:, :, d] = z
    return out, imputed, dropped


def regression_date(
    x: F64, y: F64, w: F64, s: F64, codes: NDArray[np.int64], g: int
) -> tuple[F64, F64, float, F64]:
    """Dense constrained WLS of one date via its KKT system; returns f, t-stats, R², residuals."""
    n, k = x.shape
    ok = np.isfinite(y) & (w > 0) & (s >= 0) & (codes >= 0) & np.isfinite(x).all(1)
    xs, ys, ws, ss, cs = x[ok], y[ok], w[ok], s[ok], codes[ok]
    used = np.array([np.any(cs == c) for c in range(g)])
    cols = [np.ones(len(ys))] + [(cs == c).astype(float) for c in range(g) if used[c]]
    a = np.column_stack([*cols, xs])
    p = a.shape[1]
    share = np.array([ss[cs == c].sum() for c in range(g) if used[c]]) / ss.sum()
    cons = np.concatenate([[0.0], share, np.zeros(k)])
    kkt = np.zeros((p + 1, p + 1))
    kkt[:p, :p] = a.T @ (ws[:, None] * a)
    kkt[:p, p] = kkt[p, :p] = cons
    rhs = np.concatenate([a.T @ (ws * ys), [0.0]])
    inv = scipy.linalg.inv(kkt)
    theta = inv[:p, :p] @ rhs[:p]
    res = ys - a @ theta
    dof = len(ys) - (p - 1)
    sigma2 = (ws * res**2).sum() / dof
    se = np.sqrt(sigma2 * np.diag(inv[:p, :p]))
    ybar = (ws * ys).sum() / ws.sum()
    r2 = 1 - (ws * res**2).sum() / (ws * (ys - ybar) ** 2).sum()
    f = np.zeros(1 + g + k)
    tv = np.full(1 + g + k, np.nan)
    where = np.concatenate([[0], 1 + np.flatnonzero(used), 1 + g + np.arange(k)])
    f[where] = theta
    tv[where] = theta / se
    e = np.full(n, np.nan)
    e[ok] = res
    return f, tv, float(r2), e


def covariance(
    fr: F64, vol_hl: float, corr_hl: float, lags: int, vra_hl: float, min_obs: int
) -> tuple[F64, F64]:
    """F per date from explicit weights over the valid dates so far (no recursions)."""
    k, t = fr.shape
    valid = np.isfinite(fr).all(0)
    out = np.full((t, k, k), np.nan)
    vra = np.full(t, np.nan)
    hist: list[F64] = []
    sig_prev: F64 | None = None
    b2: list[float] = []

    def nw(h: F64, hl: float) -> F64:
        m = len(h)
        wts = lam(hl) ** np.arange(m - 1, -1, -1)
        c = np.einsum("s,sa,sb->ab", wts, h, h)
        for lag in range(1, lags + 1):
            g = np.einsum("s,sa,sb->ab", wts[lag:], h[lag:], h[:-lag])
            c = c + (1 - lag / (lags + 1)) * (g + g.T)
        return c / wts.sum()

    last = np.full((k, k), np.nan)
    last_vra = np.nan
    for d in range(t):
        if valid[d]:
            f = fr[:, d]
            if sig_prev is not None and vra_hl > 0:
                good = sig_prev > 0
                b2.append(float(np.mean((f[good] / sig_prev[good]) ** 2)))
            hist.append(f)
            if len(hist) >= min_obs:
                h = np.array(hist)
                cv = nw(h, vol_hl)
                wv = lam(vol_hl) ** np.arange(len(h) - 1, -1, -1)
                g0 = np.einsum("s,sa->a", wv, h**2) / wv.sum()
                var = np.diag(cv)
                sig = np.sqrt(np.where(var > 0, var, g0))
                cc = nw(h, corr_hl)
                dd = np.sqrt(np.diag(cc))
                with np.errstate(invalid="ignore", divide="ignore"):
                    r = np.where(np.outer(dd, dd) > 0, cc / np.outer(dd, dd), 0.0)
                np.fill_diagonal(r, 1.0)
                ev, u = np.linalg.eigh(r)
                if ev.min() < -1e-10:
                    r = (u * np.maximum(ev, 0)) @ u.T
                if b2:
                    wb = lam(vra_hl) ** np.arange(len(b2) - 1, -1, -1)
                    last_vra = float(wb @ np.array(b2) / wb.sum())
                else:
                    last_vra = 1.0
                last = np.outer(sig, sig) * r * last_vra
                sig_prev = sig
        out[d] = last
        vra[d] = last_vra
    return out, vra


def specific(resid: F64, size: F64 | None, hl: float, min_obs: int, q: float, groups: int) -> F64:
    n, t = resid.shape
    sig = np.full((n, t), np.nan)
    for i in range(n):
        for d in range(t):
            e = resid[i, : d + 1]
            ok = np.isfinite(e)
            if ok.sum() >= min_obs:
                wts = lam(hl) ** (d - np.flatnonzero(ok))
                sig[i, d] = np.sqrt(wts @ e[ok] ** 2 / wts.sum())
    if size is None or q == 0:
        return sig**2
    out = sig.copy()
    for d in range(t):
        idx = np.flatnonzero(np.isfinite(sig[:, d]) & (size[:, d] > 0))
        m = len(idx)
        if m < groups:
            continue
        order = idx[np.lexsort((idx, size[idx, d]))]
        for grp in range(groups):
            mem = order[grp * m // groups : (grp + 1) * m // groups]
            z, s = size[mem, d], sig[mem, d]
            mean = (z * s).sum() / z.sum()
            dev = np.sqrt(np.mean((s - mean) ** 2))
            gap = q * np.abs(s - mean)
            with np.errstate(invalid="ignore"):
                v = np.where(dev + gap > 0, gap / (dev + gap), 0.0)
            out[mem, d] = v * mean + (1 - v) * s
    return out**2
