"""Bounded upload checks: a PDF from outside is parsed in a worker process with time and
memory limits; the object-stream bomb of issue 12 is refused as too complex (422 on the
web, a one-line error from ``certdesk verify``), a worker that dies or hangs is replaced,
and a refused file costs its sender rate tokens in proportion to the work."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from fastapi.testclient import TestClient

from certdesk.common.errors import CheckBusy, TooComplex
from certdesk.signing.keys import current_signer
from certdesk.signing.pdf import SignatureSpec, load_signer, sign_pdf
from certdesk.signing.sandbox import Limits, Sandbox
from certdesk.signing.trust import Trust
from certdesk.web import create_app
from certdesk.web.guards import TokenBucket, work_cost
from tests.conftest import run_cli
from tests.signing.bombs import object_stream_bomb
from tests.signing.support import make_settings, small_pdf
from tests.web.conftest import ALONE, MAIN, seed


@pytest.fixture(scope="module")
def body(tmp_path_factory, key_material):
    settings = make_settings(tmp_path_factory.mktemp("sandbox-home"), public_rate_burst=10_000,
                             upload_check_seconds=1.5)
    return settings, seed(settings, key_material)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return object_stream_bomb()


@pytest.fixture(scope="module")
def box():
    sandbox = Sandbox(Limits(seconds=2.0, memory_mb=256, workers=1))
    yield sandbox
    sandbox.close()


def signed(settings) -> bytes:
    return sign_pdf(small_pdf(), load_signer(current_signer(settings), settings.key_passphrase),
                    SignatureSpec(reason="test"))


def test_the_bomb_is_a_255_kb_file_of_sixty_object_streams(bomb):
    assert 240_000 < len(bomb) < 270_000 and bomb.count(b"/Type /ObjStm") == 60


@pytest.mark.parametrize("url", ["/api/v1/verify", "/verify", "/verify?lang=en"])
def test_the_object_stream_bomb_is_refused_as_too_complex_on_every_upload_form(body, bomb,
                                                                                url):
    with TestClient(create_app(body[0], body[1])) as c:
        answer = c.post(url, files={"file": ("bomb.pdf", bomb, "application/pdf")})
    assert answer.status_code == 422
    if url.startswith("/api/"):
        assert answer.json() == {"error": "too_complex",
                                 "detail": "文件过于复杂，无法在限定时间内验证。"}
    elif "en" in url:
        assert "too complex to verify within the time limit" in answer.text
    else:
        assert "文件过于复杂，无法在限定时间内验证" in answer.text


def test_certdesk_verify_refuses_the_bomb_in_one_line_with_exit_1(body, bomb, tmp_path):
    path = tmp_path / "bomb.pdf"
    path.write_bytes(bomb)
    result = run_cli("verify", str(path), home=body[0].home)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "bomb.pdf: The file is too complex to check within" in result.stderr  # LANG=C


def test_a_good_file_still_gets_its_verdict_through_the_worker(body):
    settings, _ = body
    with TestClient(create_app(settings, body[1])) as c:
        answer = c.post("/api/v1/verify", files={"file": ("c.pdf", signed(settings),
                                                          "application/pdf")})
    assert answer.status_code == 200
    verdict = answer.json()
    # Signed by the body's key but never archived: the worker's report came through intact.
    assert verdict["verdict"] == "unknown" and verdict["signature"]["trusted"]


def _kill_self(_data: bytes) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _ignore_the_timer(_data: bytes) -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(60)


def _allocate(_data: bytes) -> bytes:
    return bytes(1024 * 1024 * 1024)


@pytest.mark.slow  # a worker killed, hung or starved
@pytest.mark.parametrize("hostile", [_kill_self, _ignore_the_timer, _allocate],
                         ids=["worker-dies", "worker-hangs", "worker-allocates"])
def test_a_check_that_dies_hangs_or_grows_is_too_complex_and_the_next_check_answers(
        box, body, hostile):
    trust = Trust.of(body[0])
    with pytest.raises(TooComplex):
        box.run(hostile, b"")
    assert box.run(trust.check, signed(body[0])).value.ok


def test_an_upload_that_hits_the_limit_costs_its_sender_the_whole_burst(body, bomb):
    strict = body[0].model_copy(update={"public_rate_burst": 30, "public_rate_per_minute": 6,
                                        "upload_check_seconds": 3.0})
    with TestClient(create_app(strict, body[1]), client=ALONE) as c:
        assert c.get(f"/v/{MAIN}").status_code == 200
        refused = c.post("/api/v1/verify", files={"file": ("b.pdf", bomb, "application/pdf")})
        after = c.get(f"/v/{MAIN}")
    assert refused.status_code == 422
    assert after.status_code == 429


def test_the_work_cost_grows_with_the_seconds_a_check_took():
    assert work_cost(0.2) == 0 < work_cost(1.0) < work_cost(3.0)
    bucket = TokenBucket(per_minute=60, burst=30, clock=lambda: 0.0)
    bucket.charge("a", work_cost(3.0))
    assert bucket.take("a", 5) == 0.0 and bucket.take("a", 1) > 0  # 30 - 25 - 5 = 0 left
    assert bucket.take("b", 1) == 0.0  # another client is not charged


def _nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@pytest.mark.slow  # a real worker kept busy
def test_checks_beyond_the_workers_and_their_queue_are_refused_as_busy_at_once(wait_for):
    box = Sandbox(Limits(seconds=5.0, memory_mb=256, workers=1))
    try:
        box.start()
        # One check runs, two wait for the worker: the queue is full.
        busy = [threading.Thread(target=box.run, args=(_nap, 1.0)) for _ in range(3)]
        for t in busy:
            t.start()
        assert wait_for(lambda: box._queued == 3)
        with pytest.raises(CheckBusy):
            box.run(_nap, 0.0)
        for t in busy:
            t.join()
        assert box.run(_nap, 0.0).value == 0.0  # and answered again once they are done
    finally:
        box.close()


def test_a_busy_check_is_a_503_with_retry_after_in_the_visitors_language(body, monkeypatch):
    def busy(*args, **kw):
        raise CheckBusy("too many checks at once")

    monkeypatch.setattr("certdesk.web.public.verify.verify_file", busy)
    with TestClient(create_app(body[0], body[1])) as c:
        page = c.post("/verify?lang=en", files={"file": ("c.pdf", small_pdf(),
                                                          "application/pdf")})
        api = c.post("/api/v1/verify", files={"file": ("c.pdf", small_pdf(),
                                                       "application/pdf")})
    assert page.status_code == api.status_code == 503
    assert page.headers["retry-after"] == "2" and "try again in 2 s" in page.text
    assert api.json()["error"] == "check_busy"
