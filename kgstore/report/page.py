"""The HTML document and its building blocks. Every value is escaped unless it is `Html`
(markup this package built itself), so nothing read from the graph can inject markup; the
style sheet is inline and the fonts are the reader's own, so the page needs nothing but
itself."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from string import Template


class Html(str):
    """Markup built here, from escaped values: passed through as it is."""

    __slots__ = ()


def text(value: object) -> Html:
    return value if isinstance(value, Html) else Html(escape(str(value)))


def join(parts: Iterable[object]) -> Html:
    return Html("".join(text(part) for part in parts))


def element(tag: str, content: object = "", **attrs: object) -> Html:
    """`<tag attrs>content</tag>`; attribute names with `_` become `-` (`data_slice`),
    `class_` is `class`; None values are left out."""
    rendered = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(str(value), quote=True)}"'
        for name, value in attrs.items()
        if value is not None
    )
    return Html(f"<{tag}{rendered}>{text(content)}</{tag}>")


@dataclass(frozen=True)
class Cell:
    """A table cell with its own class (`num best`, `num sig`)."""

    content: object
    class_: str


def code(value: object) -> Html:
    """An identifier (a run id), set in a monospace font."""
    return element("code", value)


def table(
    headers: Sequence[object],
    rows: Iterable[Sequence[object]],
    row_attrs: Sequence[dict[str, object]] | None = None,
    **attrs: object,
) -> Html:
    """A table; cells that are numbers are right-aligned by the style sheet (`num`), and
    so is the header of a column whose cells all are."""
    rows = [list(row) for row in rows]
    classes = [[_class(cell) for cell in row] for row in rows]
    numeric = [
        bool(rows) and all("num" in (line[column] or "").split() for line in classes)
        for column in range(len(headers))
    ]
    head = element(
        "tr",
        join(
            element("th", h, class_="num" if n else None)
            for h, n in zip(headers, numeric, strict=True)
        ),
    )
    body = []
    for number, (row, line) in enumerate(zip(rows, classes, strict=True)):
        cells = join(
            element("td", _content(cell), class_=c) for cell, c in zip(row, line, strict=True)
        )
        extra = row_attrs[number] if row_attrs else {}
        body.append(element("tr", cells, **extra))
    return element("table", join([element("thead", head), element("tbody", join(body))]), **attrs)


def _class(cell: object) -> str | None:
    if isinstance(cell, Cell):
        return cell.class_
    return "num" if _numeric(cell) else None


def _content(cell: object) -> object:
    return cell.content if isinstance(cell, Cell) else cell


def _numeric(cell: object) -> bool:
    if isinstance(cell, int | float):
        return True
    return isinstance(cell, str) and bool(cell) and cell.lstrip("+-")[:1].isdigit()


def figure(uri: str, alt: str, caption: object = "") -> Html:
    image = Html(f'<img src="{escape(uri, quote=True)}" alt="{escape(alt, quote=True)}">')
    return element("figure", join([image, element("figcaption", caption) if caption else ""]))


def facts(pairs: Iterable[tuple[str, object]]) -> Html:
    """Key figures as a definition list laid out in a grid."""
    items = [
        element("div", join([element("dt", key), element("dd", value)])) for key, value in pairs
    ]
    return element("dl", join(items), class_="facts")


def note(content: object) -> Html:
    return element("p", content, class_="note")


def section(anchor: str, title: str, *parts: object) -> Html:
    return element("section", join([element("h2", title), *parts]), id=anchor)


CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --accent: #2f6fb0;
  --good: #2e8b57; --paper: #ffffff; --wash: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--wash); color: var(--ink);
  font: 14px/1.5 "Helvetica Neue", Helvetica, Arial, "DejaVu Sans", sans-serif; }
header { background: #17324d; color: #fff; padding: 28px 48px 22px; }
header h1 { margin: 0 0 4px; font-size: 24px; font-weight: 600; }
header p { margin: 0; color: #c9d6e3; }
nav { margin-top: 14px; }
nav a { color: #fff; margin-right: 18px; text-decoration: none; font-size: 13px;
  border-bottom: 1px solid rgba(255,255,255,.35); }
main { max-width: 1240px; margin: 0 auto; padding: 8px 32px 40px; }
section { background: var(--paper); border: 1px solid var(--line); border-radius: 6px;
  padding: 18px 24px 20px; margin: 22px 0; }
h2 { margin: 0 0 12px; font-size: 18px; color: #17324d; }
h3 { margin: 18px 0 6px; font-size: 14px; color: var(--ink); }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-size: 12.5px; }
th { text-align: left; font-weight: 600; color: var(--muted); border-bottom: 2px solid var(--line);
  padding: 6px 8px; white-space: nowrap; }
td { border-bottom: 1px solid var(--line); padding: 5px 8px; white-space: nowrap; }
th.num { text-align: right; }
table.compact { width: auto; min-width: 640px; }
table.compact td, table.compact th { padding-left: 22px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.highlight td { background: #eef4fb; }
tr.baseline td { color: var(--muted); }
td.best { font-weight: 700; color: #0b2540; }
td.better { color: var(--good); font-weight: 600; }
td.worse { color: #c0392b; font-weight: 600; }
code { font: 12.5px/1.4 "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr));
  gap: 12px 24px; margin: 0; }
.facts dt { color: var(--muted); font-size: 12px; }
.facts dd { margin: 0; font-size: 14px; font-weight: 600; overflow-wrap: anywhere; }
.std { display: block; color: var(--muted); font-size: 11px; font-weight: 400; }
td.best .std, td.better .std, td.worse .std { font-weight: 400; }
table.table3-tests th, table.table3-tests td:first-child { white-space: normal; }
figure { margin: 10px 0 14px; }
figure img { max-width: 100%; display: block; margin: 0 auto; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 6px; }
.note { color: var(--muted); font-size: 12.5px; margin: 6px 0; }
.maps { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 12px; }
ul.notes { color: var(--muted); font-size: 12.5px; margin: 6px 0; padding-left: 18px; }
details pre { background: var(--wash); padding: 10px; font-size: 12px; overflow-x: auto; }
footer { text-align: center; color: var(--muted); font-size: 12px; padding: 0 0 28px; }
"""

PAGE = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>$css</style>
</head>
<body>
<header><h1>$title</h1><p>$subtitle</p><nav>$nav</nav></header>
<main>
$body
</main>
<footer>$footer</footer>
</body>
</html>
"""
)


def page(
    title: str, subtitle: object, sections: Sequence[tuple[str, str, Html]], footer: object
) -> str:
    """The document: `sections` are (anchor, title, section markup), linked from the header."""
    nav = join(element("a", name, href=f"#{anchor}") for anchor, name, _ in sections)
    return PAGE.substitute(
        title=text(title),
        subtitle=text(subtitle),
        nav=nav,
        css=CSS,
        body="\n".join(markup for _, _, markup in sections),
        footer=text(footer),
    )
