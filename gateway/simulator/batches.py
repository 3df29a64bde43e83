"""Both providers' batch APIs: OpenAI files + batches, Anthropic message batches, with a completion delay and
partial failures, counting every submission.

==========================================  ====================================================================
``POST /v1/files``                          upload a batch input file (multipart ``file`` + ``purpose``)
``GET /v1/files/{id}/content``              a file's bytes (input, output or error file)
``POST /v1/batches``                        create a batch from an input file (``metadata`` is kept)
``GET /v1/batches``, ``/v1/batches/{id}``   list (newest first) / read batches
``POST /v1/messages/batches``               create a message batch from ``requests``
``GET /v1/messages/batches[/{id}]``         list (newest first) / read message batches
``GET /v1/messages/batches/{id}/results``   the JSONL results of an ended message batch
``GET /_sim/batches``                       ``{batches_created: {model: n}, submissions_per_custom_id: {custom_id: n},
                                            open: n}``
``POST /_sim/batches``                      ``{"delay_ms": N, "expire_models": [...], "error_rate": x}``
==========================================  ====================================================================

A batch ends ``delay_ms`` after its creation (``SimulatorConfig.batch_delay_ms``, default 1 s). Then each request
is answered exactly as the interactive endpoint would answer it, except that a request whose last user message
says ``#sim:batch_error`` (or a draw under ``error_rate``) fails, and a batch of a model in ``expire_models`` (at
creation) expires as a whole: OpenAI status ``expired`` with every request in the error file as
``batch_expired``; Anthropic ``ended`` with every result ``expired``. Submissions are counted per ``custom_id``
(the gateway uses the request id), so a test can check that no request was submitted twice.
"""

from __future__ import annotations

import random
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from aiohttp import web

from gateway.simulator import anthropic_api, openai_api
from gateway.simulator.calls import JSON_TYPE, STATE_KEY, BadRequest, CallContext
from gateway.simulator.directives import directives_for, last_user_text

Flavor = Literal["openai", "anthropic"]
BATCH_ERROR_DIRECTIVE = "#sim:batch_error"


@dataclass
class SimBatch:
    """One submitted batch and, once ended, its results (``custom_id`` -> ``(ok, body or error)``)."""

    id: str
    flavor: Flavor
    model: str
    created_s: float
    ready_s: float
    expire: bool
    items: list[tuple[str, dict[str, Any]]]
    metadata: dict[str, Any] | None = None
    input_file_id: str | None = None
    results: dict[str, tuple[bool, Any]] | None = None


@dataclass
class BatchBook:
    """Every batch and file of one simulator, its batch settings and its counters."""

    delay_ms: float = 1000.0
    expire_models: set[str] = field(default_factory=set)
    error_rate: float = 0.0
    seed: int = 0
    batches: dict[str, SimBatch] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    submissions: Counter[str] = field(default_factory=Counter)
    created: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def create(self, flavor: Flavor, items: list[tuple[str, dict[str, Any]]], **extra: Any) -> SimBatch:
        """Record a new batch and count its submissions."""
        model = str(items[0][1].get("model", "unknown")) if items else "unknown"
        now = time.time()
        prefix = "batch_" if flavor == "openai" else "msgbatch_"
        batch = SimBatch(
            id=prefix + secrets.token_hex(12),
            flavor=flavor,
            model=model,
            created_s=now,
            ready_s=now + self.delay_ms / 1000.0,
            expire=model in self.expire_models,
            items=items,
            **extra,
        )
        self.batches[batch.id] = batch
        self.created[model] += 1
        self.submissions.update(custom_id for custom_id, _ in items)
        return batch

    def ended(self, batch: SimBatch) -> bool:
        """Whether ``batch`` has ended; its results are computed the first time it has."""
        if time.time() < batch.ready_s:
            return False
        if batch.results is None:
            batch.results = {cid: self._answer(batch, body) for cid, body in batch.items}
        return True

    def _answer(self, batch: SimBatch, body: dict[str, Any]) -> tuple[bool, Any]:
        if batch.expire:
            return False, "expired"
        failing = BATCH_ERROR_DIRECTIVE in last_user_text(body.get("messages"))
        if failing or (self.error_rate and self._random.random() < self.error_rate):
            return False, "errored"
        ctx = CallContext(
            body=body, model=batch.model, request_id=None, directives=directives_for(body.get("messages"))
        )
        try:
            answer = openai_api.completion_body(ctx) if batch.flavor == "openai" else anthropic_api.message_body(ctx)
        except BadRequest as exc:
            return False, f"invalid: {exc}"
        return True, answer

    def snapshot(self) -> dict[str, Any]:
        """The counters (the body of ``GET /_sim/batches``)."""
        return {
            "batches_created": dict(self.created),
            "submissions_per_custom_id": dict(self.submissions),
            "open": sum(1 for b in self.batches.values() if b.results is None),
        }


def _book(request: web.Request) -> BatchBook:
    book = request.app[STATE_KEY].batches
    assert isinstance(book, BatchBook)
    return book


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(data), content_type=JSON_TYPE)


def _not_found(flavor: Flavor, what: str) -> web.Response:
    if flavor == "openai":
        return _json({"error": {"message": f"No such {what}", "type": "invalid_request_error", "code": None}}, 404)
    return _json({"type": "error", "error": {"type": "not_found_error", "message": f"No such {what}"}}, 404)


# --- OpenAI -----------------------------------------------------------------------------------------------------


async def upload_file(request: web.Request) -> web.Response:
    """``POST /v1/files``."""
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        return _json({"error": {"message": "'file' is required", "type": "invalid_request_error"}}, 400)
    content = upload.file.read()
    file_id = "file-" + secrets.token_hex(12)
    _book(request).files[file_id] = content
    return _json({
        "id": file_id, "object": "file", "bytes": len(content), "created_at": int(time.time()),
        "filename": upload.filename, "purpose": str(form.get("purpose", "batch")), "status": "processed",
    })  # fmt: skip


async def file_content(request: web.Request) -> web.Response:
    """``GET /v1/files/{id}/content``."""
    content = _book(request).files.get(request.match_info["file_id"])
    if content is None:
        return _not_found("openai", "file")
    return web.Response(body=content, content_type="application/octet-stream")


def _openai_batch(book: BatchBook, batch: SimBatch) -> dict[str, Any]:
    ended = book.ended(batch)
    results = batch.results or {}
    failed = sum(1 for ok, _ in results.values() if not ok)
    status = ("expired" if batch.expire else "completed") if ended else "in_progress"
    output_id = f"file-out-{batch.id}" if ended and not batch.expire else None
    error_id = f"file-err-{batch.id}" if ended and failed else None
    if ended:
        ok_lines = [_out_line(cid, body) for cid, (ok, body) in results.items() if ok]
        err_lines = [_err_line(cid, why) for cid, (ok, why) in results.items() if not ok]
        if output_id:
            book.files[output_id] = b"".join(orjson.dumps(line) + b"\n" for line in ok_lines)
        if error_id:
            book.files[error_id] = b"".join(orjson.dumps(line) + b"\n" for line in err_lines)
    return {
        "id": batch.id, "object": "batch", "endpoint": "/v1/chat/completions", "errors": None,
        "input_file_id": batch.input_file_id, "completion_window": "24h", "status": status,
        "output_file_id": output_id, "error_file_id": error_id, "created_at": int(batch.created_s),
        "in_progress_at": int(batch.created_s), "expires_at": int(batch.created_s) + 86_400,
        "completed_at": int(batch.ready_s) if ended and not batch.expire else None,
        "expired_at": int(batch.ready_s) if ended and batch.expire else None,
        "request_counts": {"total": len(batch.items), "completed": len(results) - failed, "failed": failed},
        "metadata": batch.metadata,
    }  # fmt: skip


def _out_line(custom_id: str, body: Any) -> dict[str, Any]:
    response = {"status_code": 200, "request_id": "req_" + secrets.token_hex(8), "body": body}
    return {"id": "batch_req_" + secrets.token_hex(8), "custom_id": custom_id, "response": response, "error": None}


def _err_line(custom_id: str, why: Any) -> dict[str, Any]:
    if why == "expired":
        error = {"code": "batch_expired", "message": "This request could not be executed before the completion window."}
        return {"id": "batch_req_" + secrets.token_hex(8), "custom_id": custom_id, "response": None, "error": error}
    body = {"error": {"message": f"Simulated batch failure ({why}).", "type": "server_error", "code": None}}
    response = {"status_code": 500, "request_id": "req_" + secrets.token_hex(8), "body": body}
    return {"id": "batch_req_" + secrets.token_hex(8), "custom_id": custom_id, "response": response, "error": None}


async def create_batch(request: web.Request) -> web.Response:
    """``POST /v1/batches``."""
    body = await request.json()
    book = _book(request)
    content = book.files.get(str(body.get("input_file_id")))
    if content is None:
        return _not_found("openai", "file")
    items = []
    for line in content.splitlines():
        if line.strip():
            entry = orjson.loads(line)
            items.append((str(entry.get("custom_id")), dict(entry.get("body") or {})))
    batch = book.create("openai", items, metadata=body.get("metadata"), input_file_id=body.get("input_file_id"))
    return _json(_openai_batch(book, batch))


async def get_batch(request: web.Request) -> web.Response:
    """``GET /v1/batches/{id}``."""
    book = _book(request)
    batch = book.batches.get(request.match_info["batch_id"])
    return _not_found("openai", "batch") if batch is None else _json(_openai_batch(book, batch))


async def list_batches(request: web.Request) -> web.Response:
    """``GET /v1/batches`` (every batch, newest first, one page)."""
    book = _book(request)
    data = [_openai_batch(book, b) for b in reversed(list(book.batches.values())) if b.flavor == "openai"]
    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return _json({"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": False})


# --- Anthropic --------------------------------------------------------------------------------------------------


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat().replace("+00:00", "Z")


def _anthropic_batch(request: web.Request, book: BatchBook, batch: SimBatch) -> dict[str, Any]:
    ended = book.ended(batch)
    results = batch.results or {}
    counts = {"processing": 0 if ended else len(batch.items), "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
    for ok, why in results.values():
        counts["succeeded" if ok else "expired" if why == "expired" else "errored"] += 1
    origin = f"{request.scheme}://{request.host}"
    return {
        "id": batch.id, "type": "message_batch", "processing_status": "ended" if ended else "in_progress",
        "request_counts": counts, "ended_at": _iso(batch.ready_s) if ended else None,
        "created_at": _iso(batch.created_s), "expires_at": _iso(batch.created_s + 86_400), "archived_at": None,
        "cancel_initiated_at": None,
        "results_url": f"{origin}/v1/messages/batches/{batch.id}/results" if ended else None,
    }  # fmt: skip


async def create_message_batch(request: web.Request) -> web.Response:
    """``POST /v1/messages/batches``."""
    body = await request.json()
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        return _json(
            {"type": "error", "error": {"type": "invalid_request_error", "message": "requests: required"}}, 400
        )
    items = [(str(r.get("custom_id")), dict(r.get("params") or {})) for r in requests]
    book = _book(request)
    return _json(_anthropic_batch(request, book, book.create("anthropic", items)))


async def get_message_batch(request: web.Request) -> web.Response:
    """``GET /v1/messages/batches/{id}``."""
    book = _book(request)
    batch = book.batches.get(request.match_info["batch_id"])
    return _not_found("anthropic", "batch") if batch is None else _json(_anthropic_batch(request, book, batch))


async def list_message_batches(request: web.Request) -> web.Response:
    """``GET /v1/messages/batches`` (every batch, newest first, one page)."""
    book = _book(request)
    found = [b for b in reversed(list(book.batches.values())) if b.flavor == "anthropic"]
    data = [_anthropic_batch(request, book, b) for b in found]
    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return _json({"data": data, "has_more": False, "first_id": first, "last_id": last})


async def message_batch_results(request: web.Request) -> web.Response:
    """``GET /v1/messages/batches/{id}/results`` (JSONL)."""
    book = _book(request)
    batch = book.batches.get(request.match_info["batch_id"])
    if batch is None or not book.ended(batch):
        return _not_found("anthropic", "results")
    lines = []
    for cid, (ok, value) in (batch.results or {}).items():
        if ok:
            result: dict[str, Any] = {"type": "succeeded", "message": value}
        elif value == "expired":
            result = {"type": "expired"}
        else:
            error = {"type": "error", "error": {"type": "api_error", "message": f"Simulated batch failure ({value})."}}
            result = {"type": "errored", "error": error}
        lines.append(orjson.dumps({"custom_id": cid, "result": result}) + b"\n")
    return web.Response(body=b"".join(lines), content_type="application/binary")


# --- admin ------------------------------------------------------------------------------------------------------


async def get_sim_batches(request: web.Request) -> web.Response:
    """``GET /_sim/batches``."""
    return _json(_book(request).snapshot())


async def set_sim_batches(request: web.Request) -> web.Response:
    """``POST /_sim/batches``: change the delay, the expiring models or the error rate of new batches."""
    body = await request.json()
    book = _book(request)
    if "delay_ms" in body:
        book.delay_ms = float(body["delay_ms"])
    if "expire_models" in body:
        book.expire_models = {str(m) for m in body["expire_models"]}
    if "error_rate" in body:
        book.error_rate = float(body["error_rate"])
    return _json(
        {"delay_ms": book.delay_ms, "expire_models": sorted(book.expire_models), "error_rate": book.error_rate}
    )


def add_routes(app: web.Application) -> None:
    """Register both batch APIs and their admin routes on ``app``."""
    app.router.add_post("/v1/files", upload_file)
    app.router.add_get("/v1/files/{file_id}/content", file_content)
    app.router.add_post("/v1/batches", create_batch)
    app.router.add_get("/v1/batches", list_batches)
    app.router.add_get("/v1/batches/{batch_id}", get_batch)
    app.router.add_post("/v1/messages/batches", create_message_batch)
    app.router.add_get("/v1/messages/batches", list_message_batches)
    app.router.add_get("/v1/messages/batches/{batch_id}", get_message_batch)
    app.router.add_get("/v1/messages/batches/{batch_id}/results", message_batch_results)
    app.router.add_get("/_sim/batches", get_sim_batches)
    app.router.add_post("/_sim/batches", set_sim_batches)
