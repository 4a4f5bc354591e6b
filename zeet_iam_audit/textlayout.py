"""Plain text that fits a width: lines wrapped with their indent kept, and columns fitted to a width.

The table, ``rules``, ``rules show``, ``catalog`` and ``explain`` lay out their text with these, so that
no line is wider than the terminal (or ``--width``). Pure functions over strings; colour is the
caller's (a cell's styling is applied after its width is known, so escape codes never count).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence

DEFAULT_WIDTH = 110  # when the output is not a terminal and no width is asked for
MIN_WIDTH = 40


def wrap(text: str, width: int, indent: int = 0, hanging: int = 0) -> list[str]:
    """``text`` indented by ``indent`` spaces and wrapped at ``width`` columns; continuation lines
    are indented ``hanging`` more. Words longer than a line (ARNs) are cut."""
    prefix = " " * indent
    if len(text) + indent <= width:
        return [prefix + text]
    lines = textwrap.wrap(
        text,
        width=max(1, width - indent),
        subsequent_indent=" " * hanging,
        break_long_words=True,
        break_on_hyphens=False,
    )
    return [prefix + line for line in lines] or [prefix]


def wrap_lines(text: str, width: int) -> str:
    """Every line of ``text`` wrapped at ``width``, continuation lines two spaces deeper than the line's
    own indent (prose such as ``explain``'s)."""
    out = []
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        out.extend(wrap(stripped, width, indent, 2) if stripped else [""])
    return "".join(line.rstrip() + "\n" for line in out)


def fit_widths(
    natural: Sequence[int], width: int, gap: int, minimum: Mapping[int, int], words: Mapping[int, int] | None = None
) -> list[int]:
    """Column widths within ``width``: the natural ones when they fit; else the columns named in
    ``minimum`` narrow, the widest first (so they even out), first no narrower than their longest word
    (``words``), then down to their minimum, until the whole fits (or cannot)."""
    widths = list(natural)
    excess = sum(widths) + gap * (len(widths) - 1) - width
    floors = [{c: max(least, (words or {}).get(c, 0)) for c, least in minimum.items()}, dict(minimum)]
    for floor in floors:
        while excess > 0:
            open_columns = [c for c in floor if widths[c] > floor[c]]
            if not open_columns:
                break
            widest = max(open_columns, key=lambda c: widths[c])
            runner_up = max([widths[c] for c in open_columns if c != widest] + [floor[widest]])
            cut = min(excess, widths[widest] - max(runner_up, floor[widest]) or 1)
            widths[widest] -= cut
            excess -= cut
    return widths


def render_columns(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int,
    *,
    shrink: Mapping[int, int],
    gap: int = 2,
    indent: int = 0,
    styles: Mapping[int, Callable[[str], str]] | None = None,
    header_style: Callable[[str], str] | None = None,
) -> list[str]:
    """Aligned columns within ``width``: cells wider than their column wrap onto more lines. ``shrink``
    maps the columns that may narrow to their least width, most willing first; ``styles`` styles a
    column's text (colour) after it is laid out."""
    natural = [max([len(header), *(len(row[i]) for row in rows)]) for i, header in enumerate(headers)]
    widths = natural
    if sum(natural) + gap * (len(natural) - 1) > width - indent:
        words = {c: max(len(word) for row in (headers, *rows) for word in [*row[c].split(), ""]) for c in shrink}
        widths = fit_widths(natural, width - indent, gap, shrink, words)
    spacer = " " * gap
    prefix = " " * indent
    lines = []
    for position, row in enumerate((headers, *rows)):
        cells = [
            textwrap.wrap(cell, width=widths[i], break_long_words=True, break_on_hyphens=True) or [""]
            if len(cell) > widths[i]
            else [cell]
            for i, cell in enumerate(row)
        ]
        style: Mapping[int, Callable[[str], str]] = {}
        if position == 0 and header_style is not None:
            style = dict.fromkeys(range(len(row)), header_style)
        elif position > 0 and styles:
            style = styles
        for depth in range(max(len(cell) for cell in cells)):
            parts = []
            for i, cell in enumerate(cells):
                text = cell[depth] if depth < len(cell) else ""
                pad = "" if i == len(cells) - 1 else " " * (widths[i] - len(text))
                parts.append((style[i](text) if text and i in style else text) + pad)
            lines.append((prefix + spacer.join(parts)).rstrip())
    return lines
