"""The reporting ledger: what the regulator (认监委) must be told, and which revoked or
cancelled certificates are still to come back from their holders.

``events.append`` calls ``certdesk.store.ledger.record_event`` for every certificate
event, so the report item (and, for a revocation or cancellation, the return to chase) is
written in the transaction that writes the event itself: either both exist or neither does,
and no caller can forget it. One item per logged event (unique on certificate, kind and log
entry), so re-running a command or the sweep never reports twice. Export batches say what
was handed over, and marking a batch sent records when and by whom [CACQ 8.3, 9.1.3, 9.3;
ZPIC 4.6.4, 7.3.2, 8.1.3].
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from certdesk.common.errors import InputError, NotFound, RuleViolation
from certdesk.common.i18n import N_, Msg
from certdesk.store import events
from certdesk.store.ledger import CHINA
from certdesk.store.models import (
    CertificateReturn,
    ReportBatch,
    ReportBatchItem,
    ReportItem,
    utcnow,
)
from certdesk.store.rows import stored_id

EVENT_LABELS: dict[str, str] = {  # msgids: the staff pages translate them
    "issued": N_("颁发证书"), "recertified": N_("再认证颁发证书"),
    "reissued": N_("换证（证书信息变更）"), "suspended": N_("暂停"), "restored": N_("恢复"),
    "revoked": N_("撤销"), "cancelled": N_("注销"), "expired": N_("有效期届满"),
}

RETURN_OUTCOMES: dict[str, str] = {"returned": N_("已收回"), "declared_void": N_("已公开声明作废")}


def item_dict(item: ReportItem, on: date | None = None) -> dict[str, Any]:
    data = {k: getattr(item, k) for k in (
        "id", "certificate_number", "main_number", "event_kind", "event_seq", "event_date",
        "reason", "due_date", "created", "batch_id", "sent_at", "sent_by", "status")}
    data["event_label"] = EVENT_LABELS[item.event_kind]
    if on is not None:
        data["overdue"] = is_overdue(item, on)
    return data


def is_overdue(item: ReportItem, on: date) -> bool:
    return item.status == "pending" and item.due_date < on


def unsent(s: Session) -> list[ReportItem]:
    return list(s.exec(select(ReportItem).where(ReportItem.status == "pending")
                       .order_by(col(ReportItem.due_date), col(ReportItem.id))))


def overdue(s: Session, on: date) -> list[ReportItem]:
    """Items not yet reported whose due date has passed by ``on``."""
    return list(s.exec(select(ReportItem).where(ReportItem.status == "pending",
                                                ReportItem.due_date < on)
                       .order_by(col(ReportItem.due_date), col(ReportItem.id))))


def batch_dict(s: Session, batch: ReportBatch) -> dict[str, Any]:
    return {"batch": batch.id, "created": batch.created, "created_by": batch.created_by,
            "items": batch.items, "include_sent": batch.include_sent,
            "sent_at": batch.sent_at, "sent_by": batch.sent_by}


def batches(s: Session, *, unsent_only: bool = False) -> list[ReportBatch]:
    query = select(ReportBatch)
    if unsent_only:
        query = query.where(col(ReportBatch.sent_at).is_(None))
    return list(s.exec(query.order_by(col(ReportBatch.id).desc())))


def get_batch(s: Session, batch_id: int, *, lock: bool = False) -> ReportBatch:
    """The batch; with ``lock`` its row is locked until the transaction ends (PostgreSQL;
    SQLite's write transaction already excludes other writers)."""
    batch = s.get(ReportBatch, batch_id, with_for_update=lock)
    if batch is None:
        raise NotFound(N_("没有报送批次 {batch}"), batch=batch_id)
    return batch


def batch_items(s: Session, batch_id: int) -> list[ReportItem]:
    return list(s.exec(select(ReportItem).join(
        ReportBatchItem, col(ReportBatchItem.item_id) == ReportItem.id)
        .where(ReportBatchItem.batch_id == batch_id).order_by(col(ReportItem.id))))


# -- changing it ---------------------------------------------------------------------------

def new_batch(s: Session, by: str, *, include_sent: bool = False) -> tuple[ReportBatch,
                                                                          list[ReportItem]]:
    """A batch of every item not yet sent (with ``include_sent``, of every item): an item
    stays in each new export until a batch holding it is marked sent."""
    query = select(ReportItem)
    if not include_sent:
        query = query.where(ReportItem.status == "pending")
    items = list(s.exec(query.order_by(col(ReportItem.id))))
    if not items:
        raise RuleViolation(N_("没有待报送的事项：全部已报送（--include-sent 可再次导出）"))
    batch = ReportBatch(created_by=by, items=len(items), include_sent=include_sent)
    s.add(batch)
    s.flush()
    s.add_all(ReportBatchItem(batch_id=stored_id(batch.id), item_id=stored_id(i.id))
              for i in items)
    events.append(s, "report.exported", f"report-batch:{batch.id}",
                  {"items": [i.id for i in items], "include_sent": include_sent}, by)
    return batch, items


@dataclass(frozen=True)
class Marked:
    batch: int
    marked: tuple[int, ...]
    """Items this marking reported (those of the batch that were not sent already)."""
    already_sent: tuple[int, ...]
    sent_at: datetime
    sent_by: str

    def as_dict(self) -> dict[str, Any]:
        return {"batch": self.batch, "marked": list(self.marked),
                "already_sent": list(self.already_sent), "sent_at": self.sent_at,
                "sent_by": self.sent_by}


def mark_sent(s: Session, batch_id: int, by: str, *, dry_run: bool = False) -> Marked:
    """Record that batch ``batch_id`` was uploaded by ``by`` now: its unsent items become
    sent with this batch. A batch is marked once."""
    if not by.strip():
        raise InputError(N_("请填写报送人（--by ACCOUNT）"))
    batch = get_batch(s, batch_id, lock=True)  # two officers marking at once: one wins
    if batch.sent_at is not None:
        raise RuleViolation(N_("批次 {batch} 已于 {at} UTC 由 {by} 标记为已报送"), batch=batch_id,
                            at=f"{batch.sent_at:%Y-%m-%d %H:%M}", by=batch.sent_by)
    items = batch_items(s, batch_id)
    fresh = [i for i in items if i.status == "pending"]
    at = utcnow()
    result = Marked(batch_id, tuple(stored_id(i.id) for i in fresh),
                    tuple(stored_id(i.id) for i in items if i.status != "pending"), at, by)
    if dry_run:
        return result
    batch.sent_at, batch.sent_by = at, by
    s.add(batch)
    for item in fresh:
        item.status, item.batch_id, item.sent_at, item.sent_by = "sent", batch_id, at, by
        s.add(item)
    events.append(s, "report.sent", f"report-batch:{batch_id}",
                  {"items": list(result.marked)}, by)
    return result


# -- certificates to be returned -----------------------------------------------------------

def return_dict(r: CertificateReturn) -> dict[str, Any]:
    return {k: getattr(r, k) for k in (
        "id", "certificate_number", "main_number", "event_kind", "opened_on", "status",
        "closed_on", "how", "recorded_by", "recorded_at")}


def returns(s: Session, *, outstanding_only: bool = True) -> list[CertificateReturn]:
    query = select(CertificateReturn)
    if outstanding_only:
        query = query.where(CertificateReturn.status == "outstanding")
    return list(s.exec(query.order_by(col(CertificateReturn.opened_on),
                                      col(CertificateReturn.id))))


def record_return(s: Session, numbers: list[str], on: date, how: str, by: str, *,
                  outcome: str = "returned", today: date | None = None,
                  dry_run: bool = False) -> list[CertificateReturn]:
    """Close the outstanding returns of ``numbers``: the certificate came back on ``on``
    (``how``: by post, in person...), or it was declared void publicly (``declared_void``,
    ``how``: where the declaration was published)."""
    if outcome not in RETURN_OUTCOMES:
        raise InputError(N_("结果应为 {outcomes}，而不是 {outcome}"),
                         outcomes=" / ".join(RETURN_OUTCOMES), outcome=repr(outcome))
    if not how.strip():
        raise InputError(N_("请说明收回方式或声明作废的途径（--how）"))
    if not by.strip():
        raise InputError(N_("请填写经办人（--by ACCOUNT）"))
    if not numbers:
        raise InputError(N_("请至少给出一个证书编号"))
    today = today or datetime.now(CHINA).date()
    if on > today:
        raise InputError(N_("日期 {on} 晚于今天 {today}"), on=on, today=today)
    closed = []
    for number in dict.fromkeys(n.strip() for n in numbers):
        row = s.exec(select(CertificateReturn).where(
            CertificateReturn.certificate_number == number,
            CertificateReturn.status == "outstanding").with_for_update()).first()
        if row is None:
            raise NotFound(N_("证书 {number} 没有待收回的记录"), number=number)
        if on < row.opened_on:
            raise InputError(N_("{number}：日期 {on} 早于{event}日期 {opened}"), number=number,
                             on=on, event=Msg(EVENT_LABELS[row.event_kind]),
                             opened=row.opened_on)
        closed.append(row)
    if dry_run:
        return closed
    for row in closed:
        row.status, row.closed_on, row.how = outcome, on, how.strip()
        row.recorded_by, row.recorded_at = by, utcnow()
        s.add(row)
        events.append(s, f"certificate.{outcome}", row.certificate_number,
                      {"on": on, "how": row.how, "after": row.event_kind}, by)
    return closed
