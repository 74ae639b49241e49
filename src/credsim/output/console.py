"""Printing tables on a terminal or into a pipe: a pipe or a file gets every column at full width."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def print_table(console: Console, header: list[str], rows: list[list[str]], title: str | None = None,
                numeric_from: int = 1) -> None:
    """Print `rows` under `header`; columns from `numeric_from` on are right-aligned.

    On a terminal the table fits the window (long cells end in an ellipsis); elsewhere it is
    as wide as its widest row, so that nothing is cut or folded.
    """
    table = Table(title=escape(title) if title else None)
    for i, name in enumerate(header):
        table.add_column(escape(name), no_wrap=True, overflow="ellipsis", min_width=min(len(name), 12),
                         justify="right" if i >= numeric_from else "left")
    for row in rows:
        table.add_row(*[escape(cell) for cell in row])
    width = 1 + sum(3 + max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header))
    if not console.is_terminal:
        console = Console(file=console.file, width=max(width, console.width), highlight=False)
    console.print(table)
