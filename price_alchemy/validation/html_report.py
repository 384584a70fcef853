"""Building blocks of the self-contained HTML reports a person opens from MLflow or the state
directory (validation, monitoring): the page style, escaped table cells, tables, a table of
checks, images inlined as data URIs, and the JSON fallback for numpy values. No templating
engine: `html.escape` on every value.
"""

import base64
from html import escape
from pathlib import Path

import numpy as np

STYLE = """<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.passed { color: #17692b; font-weight: bold; }
.failed { color: #b00020; font-weight: bold; }
.skipped { color: #777; }
.null { color: #999; font-style: italic; }
code, .sample td { font-family: ui-monospace, monospace; font-size: 0.9em; }
</style>"""


def cell(value, css: str = "") -> str:
    """One escaped table cell; None shows as a grey "null"."""
    if value is None:
        return '<td class="null">null</td>'
    shown = escape(str(value))
    return f'<td class="{css}">{shown}</td>' if css else f"<td>{shown}</td>"


def table(header: tuple[str, ...], rows: list[str]) -> str:
    """A table with escaped `header` cells over `rows` (each a string of cells)."""
    if not rows:
        return "<p>None.</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "\n".join(f"<tr>{row}</tr>" for row in rows)
    return f"<table>\n<tr>{head}</tr>\n{body}\n</table>"


def checks_table(checks: list[dict]) -> str:
    """Checks (dicts with name, status and detail) with their status coloured."""
    rows = [
        cell(check["name"]) + cell(check["status"], check["status"]) + cell(check["detail"])
        for check in checks
    ]
    return table(("check", "status", "detail"), rows)


def inline_image(path: Path, alt: str) -> str:
    """An <img> carrying the PNG at `path` as a data URI, so the page stands alone."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<p><img alt="{escape(alt)}" src="data:image/png;base64,{data}"></p>'


def json_default(value: object) -> object:
    """JSON fallback for numpy scalars and arrays."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
