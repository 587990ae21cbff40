"""Issue 24: every `sparsetopo ...` command named in a message or docstring exists."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from sparsetopo.cli.main import app

ROOT = Path(__file__).resolve().parents[3] / "sparsetopo"


def test_commands_named_in_the_code_exist():
    cli = typer.main.get_command(app)
    wrong = []
    for path in ROOT.rglob("*.py"):
        for match in re.finditer(r"`sparsetopo ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)", path.read_text()):
            words = match.group(1).split()
            cmd = cli.commands.get(words[0]) if hasattr(cli, "commands") else None
            if cmd is None:
                wrong.append(f"{path.name}: sparsetopo {match.group(1)}")
                continue
            sub = getattr(cmd, "commands", None)
            takes_args = any(getattr(p, "param_type_name", "") == "argument" for p in cmd.params)
            if len(words) > 1 and (words[1] not in sub if sub is not None else not takes_args):
                wrong.append(f"{path.name}: sparsetopo {match.group(1)}")
    assert not wrong, wrong
