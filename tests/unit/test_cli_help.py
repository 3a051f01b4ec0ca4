"""Every command and every argument of `infer0` has help text, and `infer0 --help` states the
exit-code rule every command follows (README, "Operator CLI")."""

from __future__ import annotations

import argparse

from infer0app.cli import build_parser


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ("infer0",)):
    """(command path, action, is_subcommand_choice) for every argument and subcommand."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield path + (name,), helps.get(name), True
                yield from walk(sub, path + (name,))
        else:
            yield path, action, False


def test_every_argument_and_command_has_help():
    missing = []
    for path, item, is_command in walk(build_parser()):
        if is_command:
            if not item:
                missing.append(" ".join(path) + " (the command)")
        elif isinstance(item, (argparse._HelpAction, argparse._VersionAction)):
            continue
        elif not item.help or item.help == argparse.SUPPRESS:
            missing.append(" ".join(path) + " " + "/".join(item.option_strings or [item.dest]))
    assert not missing, "arguments without help:\n" + "\n".join(missing)


def test_walk_sees_nested_commands_and_their_arguments():
    seen = {(" ".join(path), "/".join(a.option_strings)) for path, a, is_cmd in walk(build_parser()) if not is_cmd}
    assert ("infer0 apps rotate-secret", "--overlap") in seen and ("infer0 usage", "--format") in seen


def test_top_level_help_states_the_exit_codes(capsys):
    help_text = build_parser().format_help()
    assert "Exit status" in help_text
    for line in ("0", "1", "2"):
        assert f"  {line} " in help_text
