"""Real program for the scale audit: rich renders a table, markdown, syntax and a tree to a string."""
import io

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.tree import Tree

console = Console(record=True, width=100, file=io.StringIO(), color_system="truecolor")
table = Table(title="Planets")
for col in ("name", "mass", "moons"):
    table.add_column(col)
for k in range(30):
    table.add_row(f"planet {k}", f"{k * 1.5:.1f}", str(k % 7))
console.print(table)
DOC = "# Title\n\nSome *text* with `code` and a [link](https://example.org).\n\n- a\n- b\n\n```python\nprint(1)\n```\n"
console.print(Markdown(DOC))
tree = Tree("root")
for k in range(10):
    tree.add(f"[bold]branch {k}").add(Panel(f"leaf {k}"))
console.print(tree)
console.export_html()
