"""The model cards' Markdown as HTML: headings, paragraphs, bold, code, lists and tables.

Only the subset :func:`wijkradar.pages.model_card.render_markdown` writes; everything is escaped first,
so a label can never become markup.
"""

from __future__ import annotations

import re
from html import escape

from markupsafe import Markup


def markdown_html(text: str, *, top: int = 3) -> Markup:
    r"""Return the card's Markdown as HTML; ``#`` becomes ``<h{top}>``, ``##`` the level below.

    >>> print(markdown_html("# Kaart\n\nHet **model**, `x<y`.\n\n- een\n- twee"))
    <h3>Kaart</h3>
    <p>Het <strong>model</strong>, <code>x&lt;y</code>.</p>
    <ul><li>een</li><li>twee</li></ul>
    >>> print(markdown_html("| a | b |\n|---|---|\n| 1 | 2 |"))
    <table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>
    """
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        if not lines:
            continue
        if lines[0].startswith("#"):
            level = len(lines[0]) - len(lines[0].lstrip("#"))
            out.append(f"<h{top + level - 1}>{_inline(lines[0].lstrip('#').strip())}</h{top + level - 1}>")
            lines = lines[1:]
            if not lines:
                continue
        if all(line.startswith("|") for line in lines):
            out.append(_table(lines))
        elif all(line.startswith("- ") for line in lines):
            out.append("<ul>" + "".join(f"<li>{_inline(line[2:])}</li>" for line in lines) + "</ul>")
        else:
            out.append(f"<p>{_inline(' '.join(lines))}</p>")
    return Markup("\n".join(out))  # noqa: S704 - every piece of text went through escape()


def _table(lines: list[str]) -> str:
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines]
    rows = [r for r in rows if not all(re.fullmatch(r":?-+:?", c) for c in r)]
    head = "".join(f"<th>{_inline(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _inline(text: str) -> str:
    text = escape(text, quote=False)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)
