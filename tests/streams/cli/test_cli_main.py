"""What a new user hits first: ``--config`` in either place, and expected failures as one line, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from streams.cli.main import _parser, main
from tests.support.ports import closed_port

ROOT = Path(__file__).resolve().parents[3]


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("streamgate: ")
    return lines[0]


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "x.toml", "worker"],
        ["worker", "--config", "x.toml"],
        ["worker", "--loglevel", "warn", "--config", "x.toml"],
        ["topology", "--config", "x.toml"],
        ["send", "hello", "--config", "x.toml", "--tenant", "acme"],
        ["bench", "--config", "x.toml"],
    ],
)
def test_config_is_accepted_before_and_after_the_subcommand(argv: list[str]) -> None:
    assert _parser().parse_args(argv).config == Path("x.toml")


def test_config_defaults_to_none_in_either_place() -> None:
    assert _parser().parse_args(["topology"]).config is None


def test_topology_reads_a_config_given_after_the_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "x.toml"
    config.write_text("partitions = 2\n")
    assert main(["topology", "--config", str(config)]) == 0
    assert "intake" in capsys.readouterr().out
    missing = tmp_path / "missing.toml"
    assert main(["topology", "--config", str(missing)]) == 2  # the option after the subcommand is really read
    assert str(missing) in _one_line_error(capsys)


def test_an_invalid_setting_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("partitions = 0\n")
    assert main(["topology", "--config", str(config)]) == 2
    assert "partitions" in _one_line_error(capsys)


def test_malformed_toml_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("partitions = [\n")
    assert main(["topology", "--config", str(config)]) == 2
    _one_line_error(capsys)


def test_a_dead_status_url_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    assert main(["status", "--url", url]) != 0
    assert url in _one_line_error(capsys)


def test_status_without_a_dev_stack_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["status"]) != 0
    _one_line_error(capsys)


def test_a_bad_tenant_name_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "x", "--tenant", "bad name"]) != 0  # fails before any broker is needed
    assert "tenant" in _one_line_error(capsys)


def test_an_unknown_schema_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "nope"]) != 0
    _one_line_error(capsys)


@pytest.mark.parametrize("command", [["send", "hello"], ["limits", "acme"]])
def test_a_broker_that_does_not_answer_is_one_line(command: list[str], tmp_path: Path) -> None:
    """A subprocess, so aiokafka's own logging (unconfigured: straight to stderr) is part of what is checked."""
    bootstrap = f"127.0.0.1:{closed_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", *command],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "KAFKA_BOOTSTRAP_SERVERS": bootstrap},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [f"streamgate: no Kafka broker answers at {bootstrap}"]


def test_no_broker_configured_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .streamgate/dev.json here
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("STREAMGATE_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    assert main(["send", "hello"]) != 0
    assert "no broker" in _one_line_error(capsys)


def test_an_unreadable_schema_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "x", "--schema", str(tmp_path / "missing.json")]) != 0
    assert "--schema" in _one_line_error(capsys)


def test_version_prints_the_installed_distribution_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"streamgate {version('streamgate')}"


def test_every_argument_of_every_command_has_help_and_shows_its_default() -> None:
    import argparse

    parser = _parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, command in [("streamgate", parser), *sub.choices.items()]:
        for action in command._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
                continue
            assert action.help, f"{name} {action.dest} has no help"
        text = command.format_help()
        if name == "send":
            assert "(default: 60.0)" in text and "(default: demo)" in text
        if name == "dev":
            assert "(default: 1)" in text


def test_usage_errors_go_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["dev", "--workers", "many"])
    assert done.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "invalid int value" in captured.err


def test_batches_lists_collecting_groups_and_open_jobs_as_a_table() -> None:
    from streams.cli.batches_cli import render

    rows = [
        {"job": None, "provider": "openai", "model": "gpt-4o-mini", "size": 3, "age_s": 1.5, "state": "collecting",
         "done": 0, "batch_id": None},
        {"job": "sgb_1", "provider": "anthropic", "model": "claude-3-5-haiku", "size": 6, "age_s": 9.0,
         "state": "in_progress", "done": 0, "batch_id": "msgbatch_1"},
    ]  # fmt: skip
    lines = render(rows).splitlines()
    assert lines[0].split() == ["job", "provider", "model", "size", "age_s", "state", "done", "batch_id"]
    assert lines[1].split() == ["-", "openai", "gpt-4o-mini", "3", "1.5", "collecting", "0", "-"]
    assert lines[2].split()[0] == "sgb_1" and render([]) == "no open batch jobs"


_PROBE = """
import sys
import types
import gateway.simulator.server as server
server.run = lambda *args, **kwargs: None
# the worker module itself takes seconds to import: stand in for it, only its entry point is looked up
sys.modules["streams.runtime.worker"] = types.SimpleNamespace(run_worker=lambda *args, **kwargs: None)
from streams.cli.main import main
sys.modules.pop("streams.cli.commands", None)
assert main([sys.argv[1]]) == 0
print("streams.cli.commands" in sys.modules)
"""


@pytest.mark.parametrize("command", ["simulate", "worker"])
def test_the_simulator_and_the_worker_start_without_loading_the_other_commands(command: str) -> None:
    """``streams.cli.commands`` loads the dev stack, both SDKs and spaCy (21 s on a loaded box, past the dev
    stack's 20 s wait for the simulator): the simulator and the worker must not wait for it."""
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, command], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "False"
