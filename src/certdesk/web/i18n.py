"""The words of the public pages, in Chinese (default) and English (``?lang=en``).

Certificate data (holder, scope, addresses) is shown as the certificate prints it, in
Chinese; only the page's own words are translated.
"""

from __future__ import annotations

from datetime import date

from certdesk.domain.status import STATUS_LABELS

LANGS = ("zh", "en")

TEXT: dict[str, tuple[str, str]] = {
    "site_title": ("认证证书查询", "Certificate verification"),
    "switch": ("English", "中文"),
    "number": ("证书编号", "Certificate number"),
    "holder": ("获证组织", "Certificate holder"),
    "uscc": ("统一社会信用代码", "Unified social credit code"),
    "registered_address": ("注册地址", "Registered address"),
    "scope": ("认证范围", "Scope"),
    "site": ("认证场所", "Certified site"),
    "sites": ("认证覆盖的场所", "Sites covered"),
    "temporary": ("临时场所", "temporary site"),
    "standards": ("认证依据", "Certified against"),
    "grade": ("等级", "Grade"),
    "issue_date": ("发证日期", "Issued"),
    "reissue_date": ("换证日期", "Re-issued"),
    "expiry_date": ("有效期至", "Valid until"),
    "body": ("认证机构", "Certification body"),
    "scheme": ("认证项目", "Scheme"),
    "status": ("证书状态", "Status"),
    "main_certificate": ("主证书", "Main certificate"),
    "sub_certificates": ("子证书", "Sub-certificates"),
    "sub_note": ("子证书须与主证书同时使用方为有效。",
                 "A sub-certificate is valid only together with its main certificate."),
    "history": ("状态变更记录", "Status history"),
    "surveillance_note": ("证书须通过监督审核方能保持有效。",
                          "The certificate stays valid only with passed surveillance audits."),
    "cnca_note": ("本证书信息可在国家认证认可监督管理委员会官方网站（www.cnca.gov.cn）上查询。",
                  "This certificate can also be checked on the CNCA website (www.cnca.gov.cn)."),
    "successor": ("新证书", "New certificate"),
    "checked_at": ("查询日期：{date}", "Checked on {date}"),
    "lookup_title": ("查询证书", "Look up a certificate"),
    "lookup_hint": ("输入证书编号，或扫描证书上的二维码。",
                    "Enter the certificate number, or scan the QR code on the certificate."),
    "lookup_button": ("查询", "Look up"),
    "upload_title": ("验证证书 PDF 文件", "Check a certificate PDF"),
    "upload_hint": ("上传电子证书 PDF，检查其电子签名是否完好、是否为本机构签发的存档文件。",
                    "Upload the certificate PDF to check its electronic signature and that it "
                    "is a file this body issued."),
    "upload_label": ("证书 PDF 文件", "Certificate PDF file"),
    "upload_limit": ("文件不超过 {mb} MB。", "Files up to {mb} MB."),
    "upload_button": ("验证", "Check"),
    "upload_again": ("验证另一个文件", "Check another file"),
    "api_docs": ("接口说明", "API documentation"),
    "view_certificate": ("查看证书当前状态", "See the certificate's current status"),
    "token_ok": ("二维码验证通过：由本机构签发，与证书记录一致。",
                 "QR code verified: issued by this body and matching the record."),
    "token_differs": ("二维码所载信息与本机构存档记录不同：",
                      "What the QR code states differs from the archived record:"),
    "qr_says": ("二维码所载", "the QR code says"),
    "warning": ("警告", "Warning"),
    "archived_record": ("以下为本机构存档记录", "This body's archived record"),
    "verdict_caption": ("验证结果", "Result"),
    "authenticity": ("文件真实性", "Authenticity"),
    "integrity_genuine": ("真实，与本机构存档一致", "Genuine, matches this body's archive"),
    "integrity_tampered": ("已被篡改", "Tampered with"),
    "integrity_unknown": ("无法确认为本机构签发", "Cannot be confirmed as issued by this body"),
    "signers": ("审批签名", "Approval signatures"),
    "final_signature": ("最终签名", "final"),
    "technical": ("技术细节", "Technical details"),
    "not_found_title": ("未找到证书", "Certificate not found"),
    "not_found": ("本机构没有编号为 {number} 的证书。请核对编号，或向认证机构查询。",
                  "This body has no certificate numbered {number}. Check the number, or ask "
                  "the certification body."),
    "malformed_title": ("证书编号格式不正确", "Not a certificate number"),
    "malformed": ("“{number}” 不是有效的证书编号格式（例如 027326FWF0001R000）。",
                  "“{number}” is not a certificate number (e.g. 027326FWF0001R000)."),
    "error_title": ("无法处理请求", "The request cannot be handled"),
    "too_large": ("文件过大：最大 {mb} MB。", "The file is too large: at most {mb} MB."),
    "not_pdf": ("上传的文件不是 PDF。", "The uploaded file is not a PDF."),
    "no_file": ("请选择要验证的 PDF 文件。", "Choose a PDF file to check."),
    "too_complex": ("文件过于复杂，无法在限定时间内验证。",
                    "The file is too complex to verify within the time limit."),
    "check_busy": ("验证服务繁忙，请 {seconds} 秒后再试。",
                   "Too many files are being checked: try again in {seconds} s."),
    "rate_limited": ("请求过于频繁，请 {seconds} 秒后再试。",
                     "Too many requests: try again in {seconds} s."),
    "page_not_found": ("页面不存在。", "There is no such page."),
    "bad_request": ("请求无效。", "The request is not valid."),
    "server_error": ("服务暂时出现问题，请稍后再试。",
                     "Something went wrong; please try again later."),
    "home": ("返回首页", "Home"),
    "event_issued": ("发证", "Issued"),
    "event_suspend": ("暂停", "Suspended"),
    "event_restore": ("恢复", "Restored"),
    "event_revoke": ("撤销", "Revoked"),
    "event_cancel": ("注销", "Cancelled"),
    "event_reissued": ("换证（证书信息变更）", "Re-issued (details changed)"),
    "event_superseded": ("再认证换发新证书", "Replaced on re-certification"),
    "event_expired": ("有效期届满", "Expired"),
    "notices_title": ("证书暂停、撤销、注销公告", "Suspended, revoked and cancelled certificates"),
    "notices_hint": ("以下认证证书已被暂停、撤销或注销，在此期间不得使用。按生效日期由近及远排列。",
                     "These certificates were suspended, revoked or cancelled and may not be "
                     "used while so. Newest first."),
    "notices_for": ("证书 {number} 的公告", "Notices for certificate {number}"),
    "notices_all": ("全部公告", "All notices"),
    "notices_none": ("暂无公告。", "There are no notices."),
    "notices_status_now": ("当前状态", "Status today"),
    "notices_pages": ("公告分页", "Notice pages"),
    "notices_page": ("第 {page} / {pages} 页", "Page {page} of {pages}"),
    "notices_prev": ("上一页", "Newer"),
    "notices_next": ("下一页", "Older"),
    "notice_link": ("查看本证书的暂停、撤销或注销公告", "See this certificate's notices"),
}

STATUS_NOTES: dict[str, tuple[str, str]] = {
    "valid": ("证书有效。", "The certificate is valid."),
    "not_yet_valid": ("证书尚未生效：发证日期之前不得使用证书。",
                      "Not yet valid: the certificate takes effect on its issue date."),
    "suspended": ("证书已暂停：暂停期间证书暂时无效，获证组织不得使用证书。",
                  "Suspended: the certificate is temporarily invalid and may not be used."),
    "revoked": ("证书已撤销：证书无效，编号作废。",
                "Revoked: the certificate is invalid and its number void."),
    "cancelled": ("证书已注销：证书无效。", "Cancelled: the certificate is no longer valid."),
    "expired": ("证书已过有效期：证书无效。", "Expired: the certificate is no longer valid."),
    "superseded": ("证书已换发新证书：本证书不再使用，请查看新证书。",
                   "Superseded: a new certificate replaces this one."),
}


def pick_lang(value: str | None) -> str:
    return value if value in LANGS else "zh"


class Words:
    """The page's words in one language: ``t("key", **params)``, statuses, dates."""

    def __init__(self, lang: str | None) -> None:
        self.lang = pick_lang(lang)
        self._i = LANGS.index(self.lang)

    def __call__(self, key: str, **params) -> str:
        return TEXT[key][self._i].format(**params)

    def status(self, status: str) -> str:
        label = STATUS_LABELS[status][self._i]
        return label if self.lang == "zh" else label.capitalize()

    def status_note(self, status: str) -> str:
        return STATUS_NOTES[status][self._i]

    def date(self, d: date | None) -> str:
        if d is None:
            return ""
        return f"{d.year}年{d.month}月{d.day}日" if self.lang == "zh" else d.isoformat()
