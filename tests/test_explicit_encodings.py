"""Every text file and text subprocess in webhook/, plugins/, tests/ and bench/ names its
encoding: without one, Windows reads and writes the ANSI code page (cp1252), not UTF-8.

`make test` also runs with PYTHONWARNDEFAULTENCODING=1 and EncodingWarning as an error, which
catches what runs; this reads the source, so it catches what a run does not reach.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]
FOLDERS = ("webhook", "plugins", "tests", "bench")
SUBPROCESS_CALLS = {"run", "Popen", "check_output", "check_call", "call"}


def _constant(node: ast.expr | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def missing_encoding(call: ast.Call) -> str | None:
    """What `call` opens as text without saying the encoding, or None."""
    named = isinstance(call.func, ast.Attribute | ast.Name)
    if _keyword(call, "encoding") is not None or not named:
        return None
    function = call.func.attr if isinstance(call.func, ast.Attribute) else call.func.id
    if function == "read_text" and not call.args:
        return "read_text()"
    if function == "write_text" and len(call.args) == 1:
        return "write_text()"
    if function in SUBPROCESS_CALLS:
        text = _constant(_keyword(call, "text")) or _constant(_keyword(call, "universal_newlines"))
        return f"{function}(text=True)" if text else None
    if function in ("open", "fdopen"):
        builtin = isinstance(call.func, ast.Name) or function == "fdopen"
        position = 1 if builtin else 0  # open(file, mode) / path.open(mode)
        mode = _constant(_keyword(call, "mode"))
        if mode is None and len(call.args) > position:
            mode = _constant(call.args[position])
        if mode is None and builtin and len(call.args) == 1:
            mode = "r"
        return f"{function}({mode!r})" if isinstance(mode, str) and "b" not in mode else None
    return None


def test_every_text_open_names_its_encoding() -> None:
    found = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_bytes(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and (what := missing_encoding(node)):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {what}")
    assert not found, "add encoding=\"utf-8\" (or open in binary mode):\n" + "\n".join(found)


def test_the_check_finds_each_kind_of_call_that_defaults_to_the_code_page() -> None:
    source = """
open("a")
open("a", "w")
Path("a").open("a")
os.fdopen(3, "w")
Path("a").read_text()
Path("a").write_text("x")
subprocess.run(["x"], text=True)
open("a", "rb")
open("a", encoding="utf-8")
Path("a").read_text(encoding="utf-8")
journal.open()
subprocess.run(["x"], capture_output=True)
"""
    calls = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)]
    found = [what for call in calls if (what := missing_encoding(call))]
    assert sorted(found) == sorted(["open('r')", "open('w')", "open('a')", "fdopen('w')",
                                    "read_text()", "write_text()", "run(text=True)"])
