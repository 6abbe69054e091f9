"""The language of a page, and the public pages' words.

A page's language is, first to last: the staff account's own setting (staff pages), the
``?lang=`` of the request (remembered in a cookie), the cookie, the browser's
``Accept-Language`` (zh*, en*), Chinese. The words are gettext msgids — the Chinese text —
translated by the catalogs (``certdesk.common.i18n``). Certificate data (holder, scope,
addresses) is shown as the certificate prints it, in Chinese; only the page's own words are
translated.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from certdesk.common.i18n import (
    DEFAULT,
    HTML_LANG,
    LANGS,
    N_,
    from_accept_language,
    pick,
    translate,
)
from certdesk.domain.status import STATUS_LABELS
from certdesk.store.records import RECORD_TYPES

COOKIE = "certdesk_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
OTHER = {"zh": ("en", "English"), "en": ("zh", "中文")}
"""The language switch: the other language, named in itself (never translated)."""

TEXT: dict[str, str] = {
    "site_title": N_("认证证书查询"),
    "number": N_("证书编号"),
    "holder": N_("获证组织"),
    "uscc": N_("统一社会信用代码"),
    "registered_address": N_("注册地址"),
    "scope": N_("认证范围"),
    "site": N_("认证场所"),
    "sites": N_("认证覆盖的场所"),
    "temporary": N_("临时场所"),
    "standards": N_("认证依据"),
    "grade": N_("等级"),
    "issue_date": N_("发证日期"),
    "reissue_date": N_("换证日期"),
    "expiry_date": N_("有效期至"),
    "body": N_("认证机构"),
    "scheme": N_("认证项目"),
    "status": N_("证书状态"),
    "main_certificate": N_("主证书"),
    "sub_certificates": N_("子证书"),
    "sub_note": N_("子证书须与主证书同时使用方为有效。"),
    "history": N_("状态变更记录"),
    "surveillance_note": N_("证书须通过监督审核方能保持有效。"),
    "cnca_note": N_("本证书信息可在国家认证认可监督管理委员会官方网站（www.cnca.gov.cn）上查询。"),
    "successor": N_("新证书"),
    "checked_at": N_("查询日期：{date}"),
    "lookup_title": N_("查询证书"),
    "lookup_hint": N_("输入证书编号，或扫描证书上的二维码。"),
    "lookup_button": N_("查询"),
    "upload_title": N_("验证证书 PDF 文件"),
    "upload_hint": N_("上传电子证书 PDF，检查其电子签名是否完好、是否为本机构签发的存档文件。"),
    "upload_label": N_("证书 PDF 文件"),
    "upload_limit": N_("文件不超过 {mb} MB。"),
    "upload_button": N_("验证"),
    "upload_again": N_("验证另一个文件"),
    "api_docs": N_("接口说明"),
    "view_certificate": N_("查看证书当前状态"),
    "token_ok": N_("二维码验证通过：由本机构签发，与证书记录一致。"),
    "token_differs": N_("二维码所载信息与本机构存档记录不同："),
    "qr_says": N_("二维码所载"),
    "colon": N_("："),
    "warning": N_("警告"),
    "archived_record": N_("以下为本机构存档记录"),
    "verdict_caption": N_("验证结果"),
    "authenticity": N_("文件真实性"),
    "integrity_genuine": N_("真实，与本机构存档一致"),
    "integrity_tampered": N_("已被篡改"),
    "integrity_unknown": N_("无法确认为本机构签发"),
    "signers": N_("审批签名"),
    "final_signature": N_("最终签名"),
    "technical": N_("技术细节"),
    "not_found_title": N_("未找到证书"),
    "not_found": N_("本机构没有编号为 {number} 的证书。请核对编号，或向认证机构查询。"),
    "malformed_title": N_("证书编号格式不正确"),
    "malformed": N_("“{number}” 不是有效的证书编号格式（例如 027326FWF0001R000）。"),
    "error_title": N_("无法处理请求"),
    "too_large": N_("文件过大：最大 {mb} MB。"),
    "not_pdf": N_("上传的文件不是 PDF。"),
    "no_file": N_("请选择要验证的 PDF 文件。"),
    "too_complex": N_("文件过于复杂，无法在限定时间内验证。"),
    "check_busy": N_("验证服务繁忙，请 {seconds} 秒后再试。"),
    "rate_limited": N_("请求过于频繁，请 {seconds} 秒后再试。"),
    "page_not_found": N_("页面不存在。"),
    "bad_request": N_("请求无效。"),
    "server_error": N_("服务暂时出现问题，请稍后再试。"),
    "home": N_("返回首页"),
    "event_issued": N_("发证"),
    "event_suspend": N_("暂停"),
    "event_restore": N_("恢复"),
    "event_revoke": N_("撤销"),
    "event_cancel": N_("注销"),
    "event_reissued": N_("换证（证书信息变更）"),
    "event_superseded": N_("再认证换发新证书"),
    "event_expired": N_("有效期届满"),
    "notices_title": N_("证书暂停、撤销、注销公告"),
    "notices_hint": N_("以下认证证书已被暂停、撤销或注销，在此期间不得使用。"
                       "按生效日期由近及远排列。"),
    "notices_for": N_("证书 {number} 的公告"),
    "notices_all": N_("全部公告"),
    "notices_none": N_("暂无公告。"),
    "notices_status_now": N_("当前状态"),
    "notices_pages": N_("公告分页"),
    "notices_page": N_("第 {page} / {pages} 页"),
    "notices_prev": N_("上一页"),
    "notices_next": N_("下一页"),
    "notice_link": N_("查看本证书的暂停、撤销或注销公告"),
}
"""The public pages' words: msgids (Chinese), translated by the catalogs."""

STATUS_NOTES: dict[str, str] = {
    "valid": N_("证书有效。"),
    "not_yet_valid": N_("证书尚未生效：发证日期之前不得使用证书。"),
    "suspended": N_("证书已暂停：暂停期间证书暂时无效，获证组织不得使用证书。"),
    "revoked": N_("证书已撤销：证书无效，编号作废。"),
    "cancelled": N_("证书已注销：证书无效。"),
    "expired": N_("证书已过有效期：证书无效。"),
    "superseded": N_("证书已换发新证书：本证书不再使用，请查看新证书。"),
}


def pick_lang(value: str | None) -> str:
    return pick(value) or DEFAULT


def request_lang(request: HTTPConnection, account: str | None = None) -> str:
    """The language to answer ``request`` in (the order is the module's docstring)."""
    return (pick(account) or pick(request.query_params.get("lang"))
            or pick(request.cookies.get(COOKIE))
            or from_accept_language(request.headers.get("accept-language")) or DEFAULT)


class Words:
    """The page's words in one language: ``t("key", **params)``, statuses, dates."""

    def __init__(self, lang: str | None) -> None:
        self.lang = pick_lang(lang)
        self.html_lang = HTML_LANG[self.lang]
        self.other, self.other_name = OTHER[self.lang]

    def __call__(self, key: str, **params: object) -> str:
        return translate(self.lang, TEXT[key], **params)

    def status(self, status: str) -> str:
        label = translate(self.lang, STATUS_LABELS[status][0])
        return label if self.lang == "zh" else label.capitalize()

    def status_note(self, status: str) -> str:
        return translate(self.lang, STATUS_NOTES[status])

    def date(self, d: date | None) -> str:
        if d is None:
            return ""
        return f"{d.year}年{d.month}月{d.day}日" if self.lang == "zh" else d.isoformat()


class RememberLang:
    """ASGI middleware: a page asked for with ``?lang=zh|en`` sets the language cookie, so
    the next page (a link without ``lang``, a form post) keeps the visitor's choice."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or b"lang=" not in scope.get("query_string", b""):
            return await self.app(scope, receive, send)
        conn = HTTPConnection(scope)
        lang = pick(conn.query_params.get("lang"))
        if lang is None or lang == conn.cookies.get(COOKIE):
            return await self.app(scope, receive, send)
        cookie = (f"{COOKIE}={lang}; Path=/; Max-Age={COOKIE_MAX_AGE}; SameSite=Lax"
                  .encode("latin-1"))

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class _Box:
    """The language of the request being served, settable once its account is known."""

    __slots__ = ("lang",)

    def __init__(self, lang: str) -> None:
        self.lang = lang


# A box, not the value: a dependency run in a worker thread sets it in a copy of the
# context, and the box is what both copies share.
_current: ContextVar[_Box | None] = ContextVar("certdesk_lang", default=None)


def serve_in(lang: str) -> None:
    """Answer the current request in ``lang`` (set where the request starts)."""
    _current.set(_Box(lang))


def switch_to(lang: str) -> None:
    """Change the current request's language (once the signed-in account is known)."""
    if (box := _current.get()) is not None:
        box.lang = lang


def current_lang() -> str:
    box = _current.get()
    return box.lang if box is not None else DEFAULT


def record_type_label(key: str) -> str:
    """A record type's name in the current language: its ``RECORD_TYPES`` entry states both
    ("认证申请书 application")."""
    zh, _sep, en = RECORD_TYPES.get(key, key).partition(" ")
    return zh if current_lang() == "zh" or not en else en


def _(msgid: str, /, **params: object) -> str:
    """``msgid`` in the current request's language (``{name}`` fields filled)."""
    return translate(current_lang(), msgid, **params)


__all__ = ["LANGS", "Words", "_", "current_lang", "request_lang", "serve_in", "switch_to"]
