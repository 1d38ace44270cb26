"""Every figure as a table: the same rows feed the chart, its accessible table on the page and
the CSV download, so the three never disagree."""
import csv
import io
from dataclasses import dataclass

from portal.accreditation.register import csv_safe



@dataclass
class Table:
    key: str
    caption: str
    definition: str
    headings: tuple
    rows: list  # tuples of plain values, in the order of headings

    def chart_rows(self, value_at, display_at, label_at=0, target_at=None, suffix=""):
        """Rows for the bar_chart macro from columns of this table."""
        return [{"label": str(row[label_at]), "value": row[value_at],
                 "display": _display(row[display_at], suffix),
                 "target": row[target_at] if target_at is not None else None,
                 "target_display": _display(row[target_at], suffix) if target_at is not None
                 else ""}
                for row in self.rows]


def _display(value, suffix=""):
    if value is None:
        return "No data"
    if isinstance(value, int):
        return f"{value:,}{suffix}"
    return f"{value:g}{suffix}" if isinstance(value, float) else str(value)


def _safe(value):
    """Stop a spreadsheet reading a cell as a formula."""
    return value if isinstance(value, (int, float)) else csv_safe(value)


def to_csv(table):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.headings)
    writer.writerows([_safe(v) for v in row] for row in table.rows)
    return out.getvalue()
