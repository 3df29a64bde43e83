"""The prompt registry: files per version, latest, A/B splits by request id, safe rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.prepare import Prepared, prepare, render_request
from gateway.errors import ConfigError
from gateway.prompts.config import PromptSplit
from gateway.prompts.registry import PromptError, PromptRegistry, pick_by_split
from gateway.prompts.render import render
from gateway.settings import load_settings
from schemas.codes import ErrorCode
from schemas.result import ErrorInfo
from tests.support.factories import make_request


def write(root: Path, name: str, version: int, body: str) -> None:
    (root / name).mkdir(parents=True, exist_ok=True)
    (root / name / f"{version}.toml").write_text(body)


@pytest.fixture
def prompts_dir(tmp_path: Path) -> Path:
    write(tmp_path, "summarise", 2, 'system = "You summarise."\ntemplate = "Summarise: $text"\n')
    write(tmp_path, "summarise", 3, 'system = "You summarise in $words words."\ntemplate = "Text:\\n${text}"\n')
    write(tmp_path, "classify", 1, 'template = "Label this: $text (costs $$1)"\n')
    return tmp_path


def test_latest_is_the_highest_version_and_an_explicit_one_wins(prompts_dir: Path) -> None:
    registry = PromptRegistry.load(prompts_dir)
    assert registry.names() == ["classify", "summarise"]
    assert registry.select("summarise", None, "r1").version == "3"
    assert registry.select("summarise", "latest", "r1").version == "3"
    assert registry.select("summarise", "2", "r1").version == "2"


def test_rendering_substitutes_and_a_missing_variable_is_invalid_request(prompts_dir: Path) -> None:
    registry = PromptRegistry.load(prompts_dir)
    rendered = render(registry.select("summarise", "3", "r"), {"text": "Kafka is a log.", "words": "5"})
    assert rendered.system == "You summarise in 5 words." and rendered.user == "Text:\nKafka is a log."
    with pytest.raises(PromptError) as caught:
        render(registry.select("summarise", "3", "r"), {"text": "x"})
    assert caught.value.code is ErrorCode.INVALID_REQUEST and "words" in caught.value.message
    assert render(registry.select("classify", None, "r"), {"text": "hi"}).user == "Label this: hi (costs $1)"


def test_values_are_inserted_as_text_never_expanded(prompts_dir: Path) -> None:
    registry = PromptRegistry.load(prompts_dir)
    rendered = render(registry.select("summarise", "2", "r"), {"text": "${__class__} {{7*7}} $words"})
    assert rendered.user == "Summarise: ${__class__} {{7*7}} $words"


def test_an_ab_split_is_deterministic_and_within_one_percent_over_10000_ids(prompts_dir: Path) -> None:
    registry = PromptRegistry.load(prompts_dir, {"summarise": PromptSplit(split={"2": 0.9, "3": 0.1})})
    picks = [registry.select("summarise", None, f"req-{i}").version for i in range(10_000)]
    share = picks.count("3") / len(picks)
    assert abs(share - 0.1) <= 0.01, share
    assert picks == [registry.select("summarise", None, f"req-{i}").version for i in range(10_000)]
    assert registry.select("summarise", "3", "req-0").version == "3"  # an explicit version ignores the split


def test_split_points_are_uniform_enough_for_any_ratio() -> None:
    ids = [f"id-{i}" for i in range(10_000)]
    for share in (0.5, 0.25, 0.01):
        picks = [pick_by_split({"1": 1 - share, "2": share}, rid, "p") for rid in ids]
        assert abs(picks.count("2") / len(ids) - share) <= 0.01


@pytest.mark.parametrize(
    ("body", "why"),
    [("system = 1\ntemplate = 'x'\n", "system"), ("template = ''\n", "template"), ("template = 'a $'\n", "$"),
     ("template = 'x'\nmodel = 'gpt-4o'\n", "unknown keys"), ("template = \n", "prompt file")],
)  # fmt: skip
def test_a_bad_prompt_file_fails_at_start_up(tmp_path: Path, body: str, why: str) -> None:
    write(tmp_path, "bad", 1, body)
    with pytest.raises(ConfigError, match=why.replace("$", r"\$")):
        PromptRegistry.load(tmp_path)


def test_a_split_naming_a_missing_version_fails_at_start_up(prompts_dir: Path) -> None:
    with pytest.raises(ConfigError):
        PromptRegistry.load(prompts_dir, {"summarise": PromptSplit(split={"2": 0.5, "9": 0.5})})
    with pytest.raises(ConfigError):
        PromptSplit(split={"2": 0.5, "3": 0.4})


def test_prepare_renders_before_the_messages_and_records_the_version(prompts_dir: Path) -> None:
    registry = PromptRegistry.load(prompts_dir)
    request = make_request(
        "And keep it friendly.",
        system="Reply in English.",
        prompt={"name": "summarise", "version": "3", "variables": {"text": "A long text.", "words": "9"}},
    )
    prepared = prepare(request, load_settings(), registry)
    assert isinstance(prepared, Prepared)
    assert (prepared.prompt_name, prepared.prompt_version) == ("summarise", "3")
    rendered = prepared.request
    assert rendered.system == "You summarise in 9 words.\n\nReply in English."
    assert [m.content for m in rendered.messages] == ["Text:\nA long text.", "And keep it friendly."]
    assert rendered.prompt is None and render_request(rendered, registry) == (rendered, None)


def test_prepare_refuses_an_unknown_prompt_or_missing_variable(prompts_dir: Path) -> None:
    registry = PromptRegistry.load(prompts_dir)
    for ref in ({"name": "nope"}, {"name": "summarise", "version": "7"}, {"name": "summarise", "variables": {}}):
        request = make_request(messages=[], prompt=ref)
        refused = prepare(request, load_settings(), registry)
        assert isinstance(refused, ErrorInfo) and refused.code is ErrorCode.INVALID_REQUEST


def test_a_request_needs_messages_or_a_prompt() -> None:
    with pytest.raises(ValueError):
        make_request(messages=[])
    assert make_request(messages=[], prompt={"name": "summarise"}).prompt is not None
