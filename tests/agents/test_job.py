"""The job envelope: its copies are exactly what ``dataclasses.replace`` would build."""

from __future__ import annotations

import dataclasses

import pytest

from agents.job import Job
from schemas.codes import ErrorCode
from schemas.result import ErrorInfo
from tests.support.factories import make_request


def _job() -> Job:
    return Job(request=make_request("hello"), received_ms=7, reservation=None, model="m", attempt_log=())


def test_evolve_builds_what_dataclasses_replace_builds_for_every_field() -> None:
    job = _job()
    assert not hasattr(Job, "__post_init__")  # the fast copy would skip it
    assert all(f.init for f in dataclasses.fields(Job))
    for f in dataclasses.fields(Job):
        value = object()
        copy = job.evolve(**{f.name: value})
        assert copy == dataclasses.replace(job, **{f.name: value})
        assert getattr(copy, f.name) is value
        others = [g.name for g in dataclasses.fields(Job) if g.name != f.name]
        assert all(getattr(copy, name) is getattr(job, name) for name in others)
    assert job.evolve() == job and job.evolve() is not job


def test_a_copy_is_frozen_and_leaves_the_original_alone() -> None:
    job = _job()
    copy = job.evolve(status="ok", output="x")
    assert (job.status, job.output) == (None, None) and (copy.status, copy.output) == ("ok", "x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        copy.output = "y"  # type: ignore[misc]


def test_fail_and_an_unknown_field() -> None:
    error = ErrorInfo(code=ErrorCode.INTERNAL_ERROR, message="boom")
    job = _job()
    assert job.fail(error) == dataclasses.replace(job, status="error", error=error)
    assert job.fail(error, status="rejected").status == "rejected"
    with pytest.raises(TypeError):
        job.evolve(no_such_field=1)
