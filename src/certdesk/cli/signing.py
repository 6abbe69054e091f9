"""Staff commands for key material, approval signatures and QR tokens:
``certdesk keys init|show|rotate``, ``certdesk sign``, ``certdesk token verify``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from certdesk.cli.options import JSON_OPT
from certdesk.cli.output import console, emit
from certdesk.common.errors import InputError, VerificationFailed
from certdesk.common.files import read_bytes, write_atomically
from certdesk.common.settings import get_settings

keys_app = typer.Typer(help="The body's signing keys: CA, PDF signer, QR token key.",
                       no_args_is_help=True)
token_app = typer.Typer(help="Signed QR tokens: check one offline.", no_args_is_help=True)


def _show_keys(d: dict) -> None:
    ca = d["ca"]
    console.print(f"keys in {d['key_dir']}", highlight=False)
    console.print(f"CA      {ca['subject']}\n        sha256 {ca['sha256']}\n"
                  f"        valid {ca['not_before']:%Y-%m-%d} – {ca['not_after']:%Y-%m-%d}",
                  highlight=False)
    if len(d["trust_anchors"]) > 1:
        console.print(f"[yellow]note:[/] signers were certified by {len(d['trust_anchors'])} "
                      "CAs of this body; all stay trusted", highlight=False)
    for label, rows in (("signer", d["signers"]), ("token", d["token_keys"])):
        for k in rows:
            mark = "[green]current[/]" if k["current"] else "retired"
            created = f"{k['created']:%Y-%m-%d}" if k["created"] else "?"
            console.print(f"{label:<7} {k['kid']}  {mark}  created {created}  valid until "
                          f"{k['not_after']:%Y-%m-%d}\n        {k['subject']}", highlight=False)
    if d["demo_passphrase"]:
        console.print("[yellow]warning:[/] the keys use the demo passphrase; set "
                      "CERTDESK_KEY_PASSPHRASE for real keys", highlight=False)


@keys_app.command("init")
def keys_init(as_json: bool = JSON_OPT) -> None:
    """Create the CA, PDF signer and QR token key if missing (safe to run again)."""
    # lazy: certdesk.signing.keys at module top adds ~0.1 s to `certdesk --help`
    from certdesk.signing.keys import describe, ensure_keys

    settings = get_settings()
    ensure_keys(settings)
    emit(describe(settings), as_json, _show_keys)


@keys_app.command("show")
def keys_show(as_json: bool = JSON_OPT) -> None:
    """List the CA, every signer key the body trusts and every token key (current and
    retired): key id, subject, when it was created."""
    # lazy: certdesk.signing.keys at module top adds ~0.1 s to `certdesk --help`
    from certdesk.signing.keys import describe

    emit(describe(get_settings()), as_json, _show_keys)


@keys_app.command("rotate")
def keys_rotate(as_json: bool = JSON_OPT) -> None:
    """Make a new PDF signer and QR token key current; old keys stay to verify what they signed."""
    # lazy: certdesk.signing.keys at module top adds ~0.1 s to `certdesk --help`
    from certdesk.signing.keys import describe, rotate

    settings = get_settings()
    rotate(settings)
    emit(describe(settings), as_json, _show_keys)


def _show_approvals(d: dict) -> None:
    for a in d["approvals"]:
        mark = "[green]ok[/]" if not a["problems"] else "[red]" + "; ".join(a["problems"]) + "[/]"
        final = " (final)" if a["final"] else ""
        console.print(f"{a['field']}: {a['role']} — {a['signer']}{final}  {mark}",
                      highlight=False)
    state = "final: locked, no further change or signature" if d["final"] else \
        "open: more approvals may follow; --final locks it"
    console.print(f"record is {state}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(token_app, name="token")

    @app.command("sign")
    def sign_cmd(
        pdf: Path = typer.Argument(..., help="The prepared record (a report, a decision)."),
        role: str = typer.Option(..., "--role", "-r", help="The signer's role, e.g. 审核组长."),
        signer: str = typer.Option(..., "--signer", "-s", help="The signer's name."),
        final: bool = typer.Option(False, "--final", help="The last approval: lock the record."),
        out: Path = typer.Option(None, "--out", "-o", help="Write here (default: FILE itself)."),
        as_json: bool = JSON_OPT,
    ) -> None:
        """Add an approval signature to FILE, after those already on it.

        Each role signs once, in order; the --final signature locks the record (DocMDP
        "no changes" in its field lock). The file is rewritten only when signing succeeds.
        """
        # lazy: certdesk.signing.pdf at module top adds ~1.2 s to `certdesk --help`
        from certdesk.signing.keys import ca_certificate, ensure_keys, tsa_roots
        from certdesk.signing.pdf import load_signer, sign_approval, validate_approvals

        settings = get_settings()
        data = read_bytes(pdf)
        key = ensure_keys(settings)
        signed = sign_approval(data, load_signer(key, settings.key_passphrase), role, signer,
                               final=final, tsa_url=settings.tsa_url)
        report = validate_approvals(signed, [ca_certificate(settings)], tsa_roots(settings))
        if report.problems:  # never hand back a record that does not validate
            raise VerificationFailed(f"{pdf.name}: not signed: " + "; ".join(report.problems))
        target = out or pdf
        write_atomically(target, signed)
        emit({"file": str(target), **report.as_dict()}, as_json, _show_approvals)

    @token_app.command("verify")
    def token_verify(
        url_or_token: str = typer.Argument(..., help="The URL scanned from the QR code, or "
                                           "its token (then --number is needed)."),
        number: str | None = typer.Option(None, "--number", "-n", help="Certificate number, for a "
                                   "bare token."),
        keys: Path = typer.Option(None, "--keys", help="A saved copy of the body's "
                                  "/.well-known/certdesk-keys.json (default: this install's "
                                  "keys)."),
        as_json: bool = JSON_OPT,
    ) -> None:
        """Check a QR token offline: made by the body for this number, holder and dates?

        Only the signature is checked: the certificate's current status (suspended,
        revoked …) needs the online page. Exit 0 when genuine, 1 when not.
        """
        # lazy: certdesk.signing.tokens at module top adds ~0.1 s to `certdesk --help`
        from certdesk.signing.tokens import (
            InvalidToken,
            keys_from_keyset,
            local_keys,
            split_url,
            verify_token,
        )

        found_number, token = split_url(url_or_token)
        number = number or found_number
        if not number:
            raise InputError("a bare token needs --number (or pass the whole URL)")
        if keys is not None:
            try:
                public = keys_from_keyset(json.loads(read_bytes(keys)))
            except json.JSONDecodeError as exc:
                raise InputError(f"{keys}: not JSON ({exc.msg})") from None
        else:
            public = local_keys(get_settings())
        try:
            result = verify_token(token, number, public)
        except InvalidToken as exc:
            if as_json:
                emit({"valid": False, "reason": str(exc)}, True)
                raise typer.Exit(1) from None
            raise VerificationFailed(f"QR token not genuine: {exc}") from None
        data = {"valid": True, **result.as_dict(),
                "note": "signature only: check the current status online"}
        emit(data, as_json, lambda d: console.print(
            f"[green]genuine QR token[/]: {d['number']} {d['holder']}, issued "
            f"{d['issue_date']}, valid until {d['expiry_date']} (key {d['kid']})\n"
            "status not checked: open the URL for the certificate's current status",
            highlight=False))
