"""The report's HTML: one self-contained page (inline CSS, plots as base64 PNG, no links out)."""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = ["page", "table"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2733;
background:#f5f7fa}
main{max-width:1320px;margin:0 auto;padding:24px 32px 48px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #d8dee6;padding-bottom:4px}
.sub{color:#5b6776;font-size:13px;margin-bottom:16px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:10px 16px;min-width:130px}
.card b{display:block;font-size:20px}
.card span{color:#5b6776;font-size:12px}
table{border-collapse:collapse;background:#fff;font-size:13px;border:1px solid #dde3ea}
th,td{padding:5px 12px;border-bottom:1px solid #edf0f3;text-align:right;white-space:nowrap}
th{background:#eef2f6;font-weight:600}
td.t,th.t{text-align:left}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(600px,1fr));gap:14px;
align-items:start}
.grid>div{min-width:0;overflow-x:auto}
figure{margin:0;background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:6px}
figure img{width:100%;height:auto;display:block}
figcaption{font-size:12px;color:#5b6776;padding:4px 6px 0}
.note{background:#fff8e1;border:1px solid #f0d58c;border-radius:6px;padding:8px 12px;
font-size:13px}
footer{margin-top:32px;color:#8592a3;font-size:12px}
"""


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An HTML table; cells are escaped.

    Examples
    --------
    >>> html_text = table(["a", "n"], [["<b>", 1]])
    >>> '<td class="t">&lt;b&gt;</td>' in html_text, "<td>1</td>" in html_text
    (True, True)
    """
    text = [not rows or _is_text(rows[0][i]) for i in range(len(header))]
    head = "".join(
        f"<th{_cls(t)}>{html.escape(str(h))}</th>" for h, t in zip(header, text, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{_cls(t)}>{html.escape(str(c))}</td>" for c, t in zip(row, text, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _is_text(cell: object) -> bool:
    # Numbers (and numbers already formatted, like "1,234.5" or "-") are right-aligned.
    if isinstance(cell, int | float):
        return False
    return not str(cell).replace(",", "").replace(".", "").replace("-", "").lstrip("-").isdigit()


def _cls(text: bool) -> str:
    return ' class="t"' if text else ""


def grid(*items: str) -> str:
    """Items side by side (wrapping on narrow screens)."""
    return '<div class="grid">' + "".join(f"<div>{i}</div>" for i in items) + "</div>"


def figure(png_base64: str, caption: str, alt: str) -> str:
    """A figure holding an embedded PNG."""
    return (
        f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{png_base64}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def cards(items: Sequence[tuple[str, str]]) -> str:
    """Headline numbers: ``(value, label)`` pairs."""
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><b>{html.escape(v)}</b><span>{html.escape(k)}</span></div>'
            for v, k in items
        )
        + "</div>"
    )


def note(text: str) -> str:
    """A highlighted remark (e.g. plots left out)."""
    return f'<p class="note">{html.escape(text)}</p>'


def page(title: str, subtitle: str, sections: Sequence[tuple[str, str]], footer: str) -> str:
    """The whole document: ``sections`` are ``(heading, html body)`` pairs."""
    body = "".join((f"<h2>{html.escape(h)}</h2>" if h else "") + content for h, content in sections)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{html.escape(title)}</h1><div class='sub'>{html.escape(subtitle)}</div>{body}"
        f"<footer>{html.escape(footer)}</footer></main></body></html>\n"
    )
