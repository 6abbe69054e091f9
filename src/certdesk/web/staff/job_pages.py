"""Background jobs on the desk (a batch of issues, a file of certification cases, the
calendar sweep, an export of a register view): ``/staff/jobs`` lists the recent ones,
``/staff/jobs/<id>`` shows one — its progress while it runs (a small script polls
``/staff/jobs/<id>.json``; without scripts the page refreshes itself) and then its result:
the numbers issued as links, the organisations skipped, the failed lines; an export's file
at ``/staff/jobs/<id>/file``. An interrupted or failed job can be run again. Each page is
for the roles that may do the job's action."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from certdesk.common.errors import InputError, NotFound
from certdesk.common.i18n import N_, Msg
from certdesk.services.jobs import Jobs, translated
from certdesk.store import events
from certdesk.store import jobs as table
from certdesk.store.db import session_scope
from certdesk.store.jobs import Job, JobState
from certdesk.store.register import MEDIA_TYPES
from certdesk.web.i18n import _, current_lang
from certdesk.web.staff import reporting, sessions
from certdesk.web.staff.accounts import ROLES, may
from certdesk.web.staff.deps import CurrentUser, DeskDep, SessionDep
from certdesk.web.staff.sessions import Current
from certdesk.web.staff.web import SECURITY_HEADERS, Forbidden, area_router, download

router = area_router()

KIND_LABELS = {"issue": N_("签发证书"), "certify": N_("认证决定"), "sweep": N_("日历检查"),
               "export": N_("导出证书登记")}
ACTION_OF = {"issue": "issue", "certify": "certify", "sweep": "sweep", "export": "view"}
"""The role action a job of each kind needs: to see it, as to start it (an export: every
role, as every role reads the register)."""
SWEEP_LABELS = {"suspend": N_("暂停"), "revoke": N_("撤销"), "expire": N_("到期")}
STATE_LABELS = {"queued": N_("排队中"), "running": N_("进行中"), "done": N_("已完成"),
                "failed": N_("失败"), "interrupted": N_("已中断")}
POLL_SECONDS = 2
# The one page of the desk that runs a script (its own, from /staff/static): the poll.
JOB_PAGE_HEADERS = {"Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"]
                    + "; script-src 'self'; connect-src 'self'"}


def jobs_of(request: Request) -> Jobs:
    jobs: Jobs = request.app.state.staff_jobs
    return jobs


JobsDep = Annotated[Jobs, Depends(jobs_of)]


@asynccontextmanager
async def consuming(app: FastAPI) -> AsyncIterator[None]:
    """``certdesk serve``'s own consumer (``queue_in_process``): one worker thread per server
    process, started with the server and stopped with it (its jobs end interrupted at a
    safe point, to run again). The jobs a stopped process left running are marked first."""
    jobs: Jobs = app.state.staff_jobs
    consumer = None
    if jobs.settings.queue_in_process and not jobs.immediate:
        jobs.recover()
        consumer = jobs.consumer(in_thread=True)
        consumer.start()
    yield
    if consumer is not None:
        consumer.stop()


def summary(job: Job) -> str:
    """The result in one sentence, as the action's page said it before it became a job."""
    r = job.result
    if job.kind == "export" and r["suffix"] == ".zip":
        return _("已打包 {n} 份证书 PDF。", n=r["rows"])
    if job.kind == "export":
        return _("已导出 {n} 张证书。", n=r["rows"])
    if job.kind == "sweep":
        return _("日历检查（{on}）完成：{n} 项处理。", on=r["on"], n=len(r["actions"]))
    if job.kind == "certify":
        text = _("已作出 {n} 项认证决定：批准 {approved} 项，不予认证注册 {refused} 项；"
                 "归档记录 {records} 份", n=r["decided"], approved=r["approved"],
                 refused=r["decided"] - r["approved"], records=r["records"])
        if r["failed"]:
            text += _("；{n} 份案卷未处理", n=len(r["failed"]))
        return text
    text = _("已签发 {n} 张证书（含分证书共 {all} 份）", n=len(r["mains"]), all=len(r["numbers"]))
    if r["skipped"]:
        text += _("；{n} 个组织已持有有效证书，未重复发证", n=len(r["skipped"]))
    if r["failed"]:
        text += _("；{n} 条记录未签发", n=len(r["failed"]))
    return text


def lines(s: Session, job: Job) -> list[str]:
    """The result's lines under its sentence: skipped, refused, failed; a sweep's actions
    and the reports it leaves overdue."""
    r = job.result
    if job.kind == "export":
        return []
    if job.kind != "sweep":
        shown = translated(r, current_lang())
        return [*shown.get("skipped", []), *shown.get("refused", []), *shown["failed"]]
    done = [_("{action} {number}：{reason}", action=Msg(SWEEP_LABELS[a["action"]]),
              number=a["number"], reason=a["reason"]) for a in r["actions"]]
    late = reporting.warnings(s, date.fromisoformat(r["on"]))["report_overdue"]
    overdue = _("另有 {n} 项认监委报送已逾期，请档案管理员尽快报送。", n=late)
    return done + ([overdue] if late else [])


def _visible(job: Job | None, current: Current) -> Job:
    if job is None:
        raise NotFound(N_("没有这个任务。"))
    if not may(current.user.role, ACTION_OF[job.kind]):
        raise Forbidden(N_("您的角色（{role}）无权查看此任务。"),
                        role=Msg(ROLES[current.user.role]))
    return job


def _job(request: Request, s: Session, job_id: int, current: Current) -> Job:
    """The job, after marking it interrupted if its process here has died."""
    jobs_of(request).recover()
    s.expire_all()
    return _visible(s.get(Job, job_id, options=table.WITHOUT_FILES), current)


def as_json(job: Job) -> dict[str, Any]:
    ended = job.state in table.ENDED
    return {"id": job.id, "kind": job.kind, "state": job.state.value,
            "state_label": _(STATE_LABELS[job.state]), "total": job.total, "done": job.done,
            "account": job.account, "profile": job.profile, "file": job.input_name,
            "created": job.created.isoformat(),
            "started": job.started.isoformat() if job.started else None,
            "finished": job.finished.isoformat() if job.finished else None,
            "summary": summary(job) if ended and job.result_json else None,
            "result": job.result or None, "error": _(job.error) if job.error else None}


@router.get("/jobs", name="staff_jobs")
def job_list(request: Request, desk: DeskDep, s: SessionDep, current: CurrentUser) -> Response:
    jobs_of(request).recover()
    kinds = tuple(k for k, action in ACTION_OF.items() if may(current.user.role, action))
    return desk.render(request, "jobs.html", current, jobs=table.recent(s, kinds),
                       kinds=KIND_LABELS, states=STATE_LABELS)


@router.get("/jobs/{job_id}.json", name="staff_job_json")
def job_json(request: Request, job_id: int, s: SessionDep, current: CurrentUser) -> Response:
    return JSONResponse(as_json(_job(request, s, job_id, current)),
                        headers={"Cache-Control": "no-store"})


@router.get("/jobs/{job_id}", name="staff_job")
def job_page(request: Request, job_id: int, desk: DeskDep, s: SessionDep,
             current: CurrentUser) -> Response:
    job = _job(request, s, job_id, current)
    response = desk.render(request, "job.html", current, job=job, kinds=KIND_LABELS,
                           states=STATE_LABELS, ended=job.state in table.ENDED,
                           rerunnable=job.state in table.RERUNNABLE
                           and may(current.user.role, ACTION_OF[job.kind]),
                           summary=summary(job) if job.result_json else None,
                           lines=lines(s, job) if job.result_json else [],
                           poll=POLL_SECONDS,
                           state_words={k: _(v) for k, v in STATE_LABELS.items()})
    response.headers.update(JOB_PAGE_HEADERS)
    return response


@router.get("/jobs/{job_id}/file", name="staff_job_file")
def job_file(request: Request, job_id: int, desk: DeskDep, s: SessionDep,
             current: CurrentUser) -> Response:
    """The file an export job wrote, named as the register names an export. Each download
    of certificates' PDFs is logged: who took which certificates out."""
    job = _job(request, s, job_id, current)
    data = table.output(s, job_id) if job.state == JobState.DONE else None
    if data is None:
        raise NotFound(N_("此任务没有可下载的文件。"))
    r, user = job.result, current.user.name
    if r["suffix"] == ".zip":
        with session_scope(desk.engine) as w:
            events.append(w, "register.pdfs_downloaded", f"staff:{user}",
                          {"numbers": r["numbers"], "holders": r["holders"], "job": job_id},
                          user)
    return download(data, job.input_name, MEDIA_TYPES[r["suffix"]])


@router.post("/jobs/{job_id}/rerun", name="staff_job_rerun")
def rerun(request: Request, job_id: int, desk: DeskDep, s: SessionDep, current: CurrentUser,
          csrf: Annotated[str, Form()] = "") -> Response:
    job = _job(request, s, job_id, current)  # the role of the job's action
    if not sessions.csrf_ok(current, csrf):
        raise Forbidden(N_("表单校验失败（CSRF 令牌缺失或无效）。请刷新页面后重试。"))
    if not jobs_of(request).rerun(job_id, current.user.name):
        raise InputError(N_("任务 {id} 当前{state}，不能重新运行。"), id=job_id,
                         state=Msg(STATE_LABELS[job.state]))
    return desk.redirect(request, "staff_job", job_id=job_id)
