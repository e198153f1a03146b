"""The risk model's steps in plain NumPy (the benchmark's reference): recursions over dates
vectorised across assets, per-date statistics vectorised across dates, and the regressions as
batched dense normal equations (country + industry dummies + styles, bordered by the constraint),
solved with ``np.linalg.solve`` in chunks of dates. Same definitions as ``ferroquant.factors``."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

F64 = NDArray[np.float64]


def lam(h: float) -> float:
    return 0.5 ** (1.0 / h) if h > 0 else 1.0


class _Ew:
    """EW sums of ``c`` components over the last ``w`` dates, vectorised over assets."""

    def __init__(self, n: int, c: int, w: int, h: float, floor: int) -> None:
        self.lam, self.w = lam(h), w
        self.lw = self.lam**w
        self.s = np.zeros((c, n))
        self.count = np.zeros(n)
        self.min = max(int(np.ceil(0.5 * w)), floor, 1)

    def step(self, new: F64, old: F64 | None) -> None:
        ok = np.isfinite(new).all(0)
        self.s *= self.lam
        self.s += np.where(ok, new, 0.0)
        self.count += ok
        if old is not None:
            ok = np.isfinite(old).all(0)
            self.s -= self.lw * np.where(ok, old, 0.0)
            self.count -= ok


def descriptors(close: F64, volume: F64, caps: F64) -> F64:
    n, t = close.shape
    r = np.full_like(close, np.nan)
    r[:, 1:] = close[:, 1:] / close[:, :-1] - 1.0
    lr = np.log1p(r)
    wp = np.full_like(caps, np.nan)
    wp[:, 1:] = caps[:, :-1]
    ok = np.isfinite(r) & np.isfinite(wp) & (wp > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(ok, wp * np.where(ok, r, 0), 0).sum(0) / np.where(ok, wp, 0).sum(0)
    act = close * volume
    out = np.full((10, n, t), np.nan)
    reg, sd = _Ew(n, 6, 252, 63, 3), _Ew(n, 3, 252, 42, 2)
    mo, rv = _Ew(n, 1, 504, 126, 1), _Ew(n, 1, 21, 5, 1)
    lq = [_Ew(n, 1, w, 0, 1) for w in (21, 63, 252)]

    ones = np.ones(n)

    def pair(s: int) -> F64:
        x, y = m[s] * ones, r[:, s]
        return np.array([ones, x, y, x * x, x * y, y * y])

    def one(s: int) -> F64:
        y = r[:, s]
        return np.array([ones, y, y * y])

    with np.errstate(invalid="ignore", divide="ignore"):
        for s in range(t):
            reg.step(pair(s), pair(s - 252) if s >= 252 else None)
            sd.step(one(s), one(s - 252) if s >= 252 else None)
            mo.step(
                lr[None, :, s - 21] if s >= 21 else np.full((1, n), np.nan),
                lr[None, :, s - 525] if s >= 525 else None,
            )
            rv.step(lr[None, :, s], lr[None, :, s - 21] if s >= 21 else None)
            for q in lq:
                q.step(act[None, :, s], act[None, :, s - q.w] if s >= q.w else None)
            a = reg.s
            mx, my = a[1] / a[0], a[2] / a[0]
            vxx = a[3] / a[0] - mx * mx
            cxy = a[4] / a[0] - mx * my
            vyy = a[5] / a[0] - my * my
            good = (reg.count >= reg.min) & (vxx > 0)
            b = cxy / vxx
            out[0, :, s] = np.where(good, b, np.nan)
            out[1, :, s] = np.where(good, np.sqrt(np.maximum(vyy - cxy * b, 0)), np.nan)
            mu = sd.s[1] / sd.s[0]
            out[2, :, s] = np.where(
                sd.count >= sd.min, np.sqrt(np.maximum(sd.s[2] / sd.s[0] - mu * mu, 0)), np.nan
            )
            out[3, :, s] = np.where(mo.count >= mo.min, mo.s[0], np.nan)
            out[4, :, s] = np.where(rv.count >= rv.min, rv.s[0], np.nan)
            logs = [
                np.where(
                    (q.count >= q.min) & (q.s[0] / q.count > 0), np.log(q.s[0] / q.count), np.nan
                )
                for q in lq
            ]
            out[5, :, s] = (logs[0] + logs[1] + logs[2]) / 3
        out[6] = np.log(caps)
        # technicals: Cutler RSI 14, Bollinger 20/2 (ddof 1) %b, close / SMA 50 (min_periods 1) - 1
        d = np.full_like(close, np.nan)
        d[:, 1:] = np.diff(close, axis=1)
        g = sliding_window_view(np.clip(d, 0, None), 14, axis=1).mean(-1)
        lo = sliding_window_view(-np.clip(d, None, 0), 14, axis=1).mean(-1)
        out[7, :, 13:] = 100 - 100 / (1 + g / lo)
        win = sliding_window_view(close, 20, axis=1)
        mid, sdv = win.mean(-1), win.std(-1, ddof=1)
        pb = (close[:, 19:] - (mid - 2 * sdv)) / (4 * sdv)
        out[8, :, 19:] = np.where(np.isfinite(pb), pb, np.nan)
        padded = np.concatenate([np.full((n, 49), np.nan), close], axis=1)
        valid = np.isfinite(padded)
        cs = np.concatenate(
            [np.zeros((n, 1)), np.cumsum(np.where(valid, padded, 0), axis=1)], axis=1
        )
        cc = np.concatenate([np.zeros((n, 1)), np.cumsum(valid, axis=1)], axis=1)
        ssum, cnt = cs[:, 50:] - cs[:, :-50], cc[:, 50:] - cc[:, :-50]
        out[9] = close / np.where(cnt > 0, ssum / np.maximum(cnt, 1), np.nan) - 1
    return out


def _zscore(x: F64, valid: NDArray[np.bool_], cw: F64, winsor: float) -> F64:
    """Per-date (column) z-scores of the valid cells of an (n, t) panel; see standardize."""
    n = valid.sum(0)
    xv = np.where(valid, x, 0.0)

    def stats(xv: F64) -> tuple[F64, F64]:
        with np.errstate(invalid="ignore", divide="ignore"):
            m = xv.sum(0) / n
            sd = np.sqrt((np.where(valid, xv - m, 0.0) ** 2).sum(0) / (n - 1))
            sw = cw.sum(0)
            mu = np.where(sw > 0, (cw * xv).sum(0) / sw, m)
        return mu, sd

    mu, sd = stats(xv)
    if winsor > 0:
        clip = (n >= 2) & (sd > 0)
        lo, hi = mu - winsor * sd, mu + winsor * sd
        xv = np.where(clip & valid, np.clip(xv, lo, hi), xv)
        mu, sd = stats(xv)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where((n >= 2) & (sd > 0), (xv - mu) / sd, 0.0)
    return np.where(valid, z, np.nan)


def standardize(
    raw: F64,
    caps: F64,
    universe: NDArray[np.bool_],
    orth: list[tuple[int, list[int]]],
    winsor: float = 3.0,
    min_valid: int = 5,
) -> F64:
    k = raw.shape[0]
    kept = universe & (np.isfinite(raw).sum(0) >= min_valid)
    capw = np.where(np.isfinite(caps) & (caps > 0), caps, 0.0)
    out = np.full_like(raw, np.nan)
    for s in range(k):
        valid = kept & np.isfinite(raw[s])
        z = _zscore(raw[s], valid, np.where(valid, capw, 0.0), winsor)
        out[s] = np.where(kept & ~valid, 0.0, z)
    w = np.where(kept, capw, 0.0)
    w = np.where((w.sum(0) > 0)[None, :], w, kept.astype(float))
    for target, regs in orth:
        cols = [np.where(kept, 1.0, 0.0)] + [np.where(kept, out[r], 0.0) for r in regs]
        a = np.stack(cols)  # (m, n, t)
        y = np.where(kept, out[target], 0.0)
        gram = np.einsum("ant,nt,bnt->tab", a, w, a)
        rhs = np.einsum("ant,nt,nt->ta", a, w, y)
        # pinv: early dates may have no kept asset (a singular system); later ones are regular
        beta = np.einsum("tab,tb->ta", np.linalg.pinv(gram), rhs)
        res = y - np.einsum("ant,ta->nt", a, beta)
        out[target] = _zscore(res, kept, np.where(kept, capw, 0.0), 0.0)
    return out


def regressions(
    x: F64, ret: F64, caps: F64, codes: NDArray[np.int64], g: int, first: int, chunk: int = 32
) -> tuple[F64, F64]:
    """Factor returns (1 + g + k, t) and residuals (n, t) by batched dense normal equations."""
    k, n, t = x.shape
    p = 1 + g + k
    f = np.full((p, t), np.nan)
    resid = np.full((n, t), np.nan)
    dummies = np.zeros((n, g))
    dummies[np.arange(n), codes] = 1.0
    for t0 in range(first, t - 1, chunk):
        t1 = min(t0 + chunk, t - 1)
        xs = x[:, :, t0:t1].transpose(2, 1, 0)  # (c, n, k)
        y = ret[:, t0 + 1 : t1 + 1].T
        cp = caps[:, t0:t1].T
        ok = np.isfinite(y) & np.isfinite(xs).all(-1) & np.isfinite(cp) & (cp > 0)
        w = np.where(ok, np.sqrt(np.where(ok, cp, 1.0)), 0.0)
        c = xs.shape[0]
        a = np.empty((c, n, p))
        a[:, :, 0] = 1.0
        a[:, :, 1 : 1 + g] = dummies
        a[:, :, 1 + g :] = np.where(ok[..., None], xs, 0.0)
        yv = np.where(ok, y, 0.0)
        kkt = np.zeros((c, p + 1, p + 1))
        kkt[:, :p, :p] = np.einsum("cnp,cn,cnq->cpq", a, w, a)
        share = np.einsum("cn,ng->cg", np.where(ok, cp, 0.0), dummies)
        share /= share.sum(1, keepdims=True)
        kkt[:, 1 : 1 + g, p] = kkt[:, p, 1 : 1 + g] = share
        empty = share == 0  # industries without members: f_g = 0
        for j, gg in zip(*np.nonzero(empty), strict=True):
            kkt[j, 1 + gg, 1 + gg] = 1.0
        rhs = np.zeros((c, p + 1))
        rhs[:, :p] = np.einsum("cnp,cn->cp", a, w * yv)
        theta = np.linalg.solve(kkt, rhs[..., None])[:, :p, 0]
        f[:, t0:t1] = theta.T
        e = yv - np.einsum("cnp,cp->cn", a, theta)
        resid[:, t0:t1] = np.where(ok, e, np.nan).T
    return f, resid


def covariance(
    fr: F64,
    vol_hl: float = 84,
    corr_hl: float = 504,
    lags: int = 2,
    vra_hl: float = 42,
    min_obs: int = 63,
) -> F64:
    k, t = fr.shape
    lv, lc, lb = lam(vol_hl), lam(corr_hl), lam(vra_hl)
    sv = np.zeros((lags + 1, k))
    sc = np.zeros((lags + 1, k, k))
    wv = wc = sb = wb = 0.0
    seen = 0
    hist: list[F64] = []
    out = np.full((t, k, k), np.nan)
    cur = np.full((k, k), np.nan)
    sig_prev = None
    bw = 1 - np.arange(1, lags + 1) / (lags + 1)
    for d in range(t):
        f = fr[:, d]
        if np.isfinite(f).all():
            if sig_prev is not None:
                good = sig_prev > 0
                sb = lb * sb + np.mean((f[good] / sig_prev[good]) ** 2)
                wb = lb * wb + 1
            hist = [f, *hist[:lags]]
            seen += 1
            wv, wc = lv * wv + 1, lc * wc + 1
            sv *= lv
            sc *= lc
            for lag, h in enumerate(hist):
                sv[lag] += f * h
                sc[lag] += np.outer(f, h)
            if seen >= min_obs:
                var = (sv[0] + 2 * (bw[:, None] * sv[1:]).sum(0)) / wv
                sig = np.sqrt(np.where(var > 0, var, sv[0] / wv))
                c = sc[0] + (bw[:, None, None] * (sc[1:] + sc[1:].transpose(0, 2, 1))).sum(0)
                c /= wc
                dd = np.sqrt(np.diag(c))
                r = np.where(np.outer(dd, dd) > 0, c / np.outer(dd, dd), 0.0)
                np.fill_diagonal(r, 1.0)
                ev, u = np.linalg.eigh(r)
                if ev.min() < -1e-10:
                    r = (u * np.maximum(ev, 0)) @ u.T
                cur = np.outer(sig, sig) * r * (sb / wb if wb > 0 else 1.0)
                sig_prev = sig
        out[d] = cur
    return out


def specific(
    resid: F64, caps: F64, hl: float = 84, min_obs: int = 42, q: float = 0.1, groups: int = 10
) -> F64:
    n, t = resid.shape
    lm = lam(hl)
    s = np.zeros(n)
    w = np.zeros(n)
    c = np.zeros(n)
    sig = np.full((n, t), np.nan)
    for d in range(t):
        e = resid[:, d]
        ok = np.isfinite(e)
        s = lm * s + np.where(ok, e * e, 0.0)
        w = lm * w + ok
        c += ok
        with np.errstate(invalid="ignore", divide="ignore"):
            sig[:, d] = np.where(c >= min_obs, np.sqrt(s / w), np.nan)
    out = sig.copy()
    for d in range(t):
        idx = np.flatnonzero(np.isfinite(sig[:, d]) & (caps[:, d] > 0))
        m = len(idx)
        if m < groups:
            continue
        order = idx[np.lexsort((idx, caps[idx, d]))]
        bounds = np.arange(groups + 1) * m // groups
        for grp in range(groups):
            mem = order[bounds[grp] : bounds[grp + 1]]
            z, sv = caps[mem, d], sig[mem, d]
            mean = (z * sv).sum() / z.sum()
            dev = np.sqrt(np.mean((sv - mean) ** 2))
            gap = q * np.abs(sv - mean)
            v = np.where(dev + gap > 0, gap / np.where(dev + gap > 0, dev + gap, 1.0), 0.0)
            out[mem, d] = v * mean + (1 - v) * sv
    return out**2
