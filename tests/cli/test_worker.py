"""``certdesk worker``: its help names the queue setting, and an install whose queue runs
jobs where they are submitted (``immediate:``) has nothing for a worker to do."""

from __future__ import annotations


def test_worker_help_names_the_queue_and_its_options(cli):
    result = cli("worker", "--help")
    assert result.returncode == 0
    assert "CERTDESK_QUEUE_URL" in result.stdout and "--workers" in result.stdout


def test_a_worker_on_an_immediate_queue_stops_with_one_line(cli):
    result = cli("worker", env={"CERTDESK_QUEUE_URL": "immediate:"})
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "immediate" in result.stderr


def test_a_worker_refuses_a_queue_url_it_cannot_use(cli, keyed_home):
    result = cli("worker", env={"CERTDESK_QUEUE_URL": "redis://localhost:6379"})
    assert result.returncode != 0 and "CERTDESK_QUEUE_URL" in result.stderr
    assert result.stderr.strip().count("\n") == 0
