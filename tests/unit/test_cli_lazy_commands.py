"""`infer0 COMMAND ...` builds its parser with that command only (infer0app/cli.py), so a call
imports its own command's modules and not every command's: the narrowed parser must accept and
refuse exactly what the whole one does, and a call must really skip the other commands."""

from __future__ import annotations

import subprocess
import sys

import pytest

from infer0app.cli import build_parser
from infer0app.commands import COMMAND_NAMES
from tests.support.processes import ROOT
from tests.unit.test_cli_help import walk


def described(parser) -> list:
    """Every (command path, option strings, dest, nargs, choices, default) the parser knows."""
    return sorted((path, tuple(a.option_strings), a.dest, str(a.nargs), str(a.choices), str(a.default))
                  for path, a, is_command in walk(parser) if not is_command)


@pytest.mark.parametrize("name", COMMAND_NAMES)
def test_the_narrowed_parser_knows_the_commands_arguments_as_the_whole_one_does(name):
    whole = [row for row in described(build_parser()) if row[0][:2] == ("infer0", name)]
    narrowed = [row for row in described(build_parser([name, "--help"])) if row[0][:2] == ("infer0", name)]
    assert whole and narrowed == whole


@pytest.mark.parametrize("argv", [[], ["--help"], ["--version"], ["no-such-command"], ["--bogus"]])
def test_without_a_known_command_every_command_is_offered(argv):
    offered = next(a for a in build_parser(argv)._actions if a.dest == "command").choices
    assert list(offered) == COMMAND_NAMES


def test_a_call_imports_its_own_command_only(tmp_path):
    probe = ("import sys, infer0app.cli as cli\n"
             "try:\n    cli.main(['users', 'list', '--data-dir', sys.argv[1]])\n"
             "finally:\n    print(sorted(m for m in sys.modules if m.startswith('infer0app.commands.')))\n")
    proc = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "missing")], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert "No infer0 database" in proc.stderr, proc.stderr  # the command ran (and failed as documented)
    loaded = proc.stdout.strip()
    assert "'infer0app.commands.users'" in loaded
    assert "'infer0app.commands.kek'" not in loaded and "'infer0app.commands.serve'" not in loaded, loaded
