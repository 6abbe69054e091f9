"""Helpers shared by the signing and web tests: an issued home, small PDFs, a foreign CA."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pikepdf
from sqlalchemy.engine import Engine

from certdesk.common.settings import Settings
from certdesk.services.inputs import OrganisationInput, SiteInput
from certdesk.services.issuing import IssuedCertificate, Issuer
from tests.shipped import SHIPPED

ORG = OrganisationInput(
    name="北京恒信达家电售后服务有限公司", uscc="91110105MA01XB8H2N",
    registered_address="北京市朝阳区建国路88号", scope="家用电器的安装、维修",
    decision_date=date(2026, 11, 20), grade="四星级",
    sites=(SiteInput("北京市朝阳区建国路88号", "家用电器的安装、维修"),
           SiteInput("天津市和平区南京路189号", "家用电器的维修", temporary=True)))


def make_settings(home: Path, **overrides) -> Settings:
    """Settings for ``home`` whatever the environment says (tests run side by side)."""
    return Settings(**{"home": home, "database_url": None, "tsa_url": None, "tsa_roots": None,
                       **overrides})


@dataclass(frozen=True)
class IssuedHome:
    home: Path
    settings: Settings
    engine: Engine
    certificates: list[IssuedCertificate]

    @property
    def env(self) -> dict[str, str]:
        """Environment for running ``certdesk`` against this home."""
        env = {"CERTDESK_HOME": str(self.home), "CERTDESK_PUBLIC_URL": self.settings.public_url}
        if self.settings.tsa_roots:
            env["CERTDESK_TSA_ROOTS"] = str(self.settings.tsa_roots)
        return env


def issue_home(home: Path, pool, **overrides) -> IssuedHome:
    """A data home holding one issued main certificate and its two sub-certificates."""
    settings = make_settings(home, **overrides)
    with Issuer(SHIPPED.get("xbht"), settings=settings, pool=pool) as issuer:
        certs = issuer.issue(ORG)
    return IssuedHome(home, settings, issuer.engine, certs)


def small_pdf(text: str = "record") -> bytes:
    """A one-page PDF standing in for a prepared record (no LibreOffice needed)."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)))
    page.Contents = pdf.make_stream(f"BT /F1 18 Tf 72 760 Td ({text}) Tj ET".encode())
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()
