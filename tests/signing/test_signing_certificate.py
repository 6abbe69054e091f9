"""The signing-certificate attribute certdesk builds once per signer must be the one
pyHanko would build for every signature: it binds the signature to the signer's
certificate (RFC 5035), and validation checks it."""

from __future__ import annotations

import asyncio

from asn1crypto import cms
from pyhanko.sign.general import as_signing_certificate_v2

from certdesk.signing.keys import ensure_keys
from certdesk.signing.pdf import load_signer


def test_every_signature_carries_the_signing_certificate_attribute_of_the_signer(keyed_home,
                                                                                settings):
    signer = load_signer(ensure_keys(settings), settings.key_passphrase)
    expected = as_signing_certificate_v2(signer.signing_cert).dump()
    for _ in range(2):  # the stored encoding serves more than one signature
        signed = asyncio.run(signer.async_sign(b"\0" * 32, "sha256", use_pades=True))
        data = cms.ContentInfo.load(signed.dump())["content"]
        attrs = {a["type"].native: a for a in data["signer_infos"][0]["signed_attrs"]}
        assert attrs["signing_certificate_v2"]["values"][0].dump() == expected
