"""The import report (and every other list the digitisation pages export) as
CSV: one line per row not imported, or imported with a flag or a note.

Every exported cell is guarded against spreadsheet formula injection: a value
that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading single quote, so a spreadsheet shows it as text and never runs it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from balai.registry.models_digitisation import ImportIssue, ImportJob, IssueOutcome

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HEADER = ("baris", "kolom", "hasil", "kode", "alasan", "nilai")


def neutralise(value: Any) -> str:
    """Return a cell for a CSV a spreadsheet will open: never a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def csv_line(cells: Sequence[Any]) -> str:
    """Return one CSV line of guarded cells."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([neutralise(c) for c in cells])
    return buffer.getvalue()


def stream_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """Yield a CSV (UTF-8 with a byte-order mark, so Excel reads it as UTF-8)
    line by line: for a streaming HTTP response or a file."""
    yield "\ufeff" + csv_line(header)
    for row in rows:
        yield csv_line(row)


def outcome_label(outcome: str) -> str:
    return str(IssueOutcome(outcome).label)


def line_cells(line: Any) -> tuple:
    """The cells of a report line (a pipeline `Line` or an `ImportIssue`)."""
    return (
        line.line,
        line.column,
        outcome_label(line.outcome),
        line.code,
        line.message,
        line.value,
    )


def job_rows(job: ImportJob) -> Iterator[tuple]:
    issues = (
        ImportIssue.objects.filter(job=job)
        .order_by("line", "id")
        .only("line", "column", "outcome", "code", "message", "value")
    )
    for issue in issues.iterator(chunk_size=2000):
        yield line_cells(issue)


class ReportWriter:
    """Writes report lines to a file as they come (the command line)."""

    def __init__(self, fh: IO[str]) -> None:
        self.fh = fh
        self.lines = 0
        fh.write(next(stream_csv(HEADER, ())))

    def write(self, lines: Iterable[Any]) -> None:
        for line in lines:
            self.fh.write(csv_line(line_cells(line)))
            self.lines += 1

    def write_job(self, job: ImportJob) -> None:
        for cells in job_rows(job):
            self.fh.write(csv_line(cells))
            self.lines += 1
