"""The QR code with its signed token stays small enough to scan when printed at 2 cm:
measured with the production encoder (docgen.qr, segno, level M) and decoded by zbarimg."""

from __future__ import annotations

import subprocess
from datetime import date

import pytest
import segno

from certdesk.documents.qr import ERROR_LEVEL
from certdesk.signing.tokens import TokenClaims, current_token
from tests.conftest import install_keys
from tests.signing.support import make_settings

PRINTED_MM = 20


@pytest.fixture(scope="module")
def body(tmp_path_factory, key_material):
    return make_settings(install_keys(key_material, tmp_path_factory.mktemp("qr-home")),
                         public_url="https://cert.example.com.cn")


def url_for(body, holder: str) -> str:
    number = "027326FWF0001R000-1"
    claims = TokenClaims(number, holder, date(2026, 11, 23), date(2029, 11, 22))
    return f"{body.public_url}/v/{number}?t={current_token(body, claims)}"


def code(url: str) -> segno.QRCode:
    return segno.make(url, error=ERROR_LEVEL, micro=False, boost_error=False)


@pytest.mark.parametrize(("holder", "version"), [
    ("北京恒信达家电售后服务有限公司", 10),                       # 15 hanzi, typical
    ("中国石油天然气股份有限公司北京销售分公司售后服务中心", 11),   # 25 hanzi, long
])
def test_the_qr_version_at_level_m_for_typical_and_long_holder_names(body, holder, version):
    qr = code(url_for(body, holder))
    assert qr.error == "M"
    assert qr.version == version


def test_a_typical_code_printed_at_2_cm_has_modules_of_at_least_a_third_of_a_millimetre(body):
    modules = code(url_for(body, "北京恒信达家电售后服务有限公司")).symbol_size(border=0)[0]
    assert modules == 57
    assert PRINTED_MM / modules >= 0.33


def test_zbar_reads_the_code_at_two_pixels_per_module(body, tmp_path):
    # 2 px per module = the 2 cm symbol seen at about 145 dpi, a coarse phone photo.
    url = url_for(body, "北京恒信达家电售后服务有限公司")
    png = tmp_path / "qr.png"
    code(url).save(png, scale=2, border=4)
    scan = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True)
    assert scan.stdout.strip() == url


@pytest.mark.parametrize("holder", ["北京恒信达家电售后服务有限公司",
                                    "中国石油天然气股份有限公司北京销售分公司售后服务中心"])
def test_the_certificate_png_has_whole_pixels_per_module_within_300_dpi(body, holder):
    """LibreOffice resamples pictures finer than 300 dpi, blurring the modules: the code is
    drawn at the largest whole number of pixels per module that stays within it."""
    from io import BytesIO

    from PIL import Image as PILImage

    from certdesk.documents.qr import PRINT_DPI, QR_WIDTH_MM, qr_png

    png, version = qr_png(url_for(body, holder))
    modules = 17 + 4 * version + 2 * 4  # the symbol and its quiet zone
    width = PILImage.open(BytesIO(png)).size[0]
    assert width % modules == 0
    limit = QR_WIDTH_MM / 25.4 * PRINT_DPI
    assert width <= limit < width + modules
