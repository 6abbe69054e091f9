"""Hostile PDFs for the bounded upload check: object-stream bombs and seeded mutants.

``object_stream_bomb()`` is the 255 KB file of issue 12: 60 small compressed object
streams, each inflating to 4 MiB of spaces that pyHanko's parser walks byte by byte
(about 30 s unbounded). ``mutants()`` turns a real certificate into deterministic
variants (byte flips, truncations, duplicated chunks, bombs appended as an update).
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Iterator

BOMB_PAD = 4 * 1024 * 1024 - 1024
"""Just under pyHanko's 4 MiB limit on one decoded stream."""


def object_stream_bomb(streams: int = 60, pad: int = BOMB_PAD, *, base: bytes | None = None,
                       first_obj: int = 1) -> bytes:
    """A PDF whose form fields live in ``streams`` object streams padded with ``pad``
    spaces each (compressed to a few KB). With ``base``, the bomb is appended to that PDF
    as an incremental update that replaces its catalogue (object numbers from
    ``first_obj`` on must be free in ``base``)."""
    out = bytearray(base if base is not None else b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    prev = _startxref(base) if base is not None else None
    n = first_obj
    catalog, pages, page = n, n + 1, n + 2
    fields = [n + 3 + 2 * i + 1 for i in range(streams)]
    offsets: dict[int, int] = {}
    in_stream: dict[int, tuple[int, int]] = {}

    def add(num: int, body: bytes) -> None:
        offsets[num] = len(out)
        out.extend(f"{num} 0 obj\n".encode() + body + b"\nendobj\n")

    refs = " ".join(f"{f} 0 R" for f in fields)
    add(catalog, f"<< /Type /Catalog /Pages {pages} 0 R /AcroForm << /Fields [{refs}] >> >>"
        .encode())
    add(pages, f"<< /Type /Pages /Kids [{page} 0 R] /Count 1 >>".encode())
    add(page, f"<< /Type /Page /Parent {pages} 0 R /MediaBox [0 0 595 842] >>".encode())
    for i in range(streams):
        stream_num, field = n + 3 + 2 * i, fields[i]
        header = f"{field} 0 ".encode()
        content = header + b" " * pad + f"<< /FT /Sig /T (s{i}) >>".encode()
        packed = zlib.compress(content, 9)
        add(stream_num, f"<< /Type /ObjStm /N 1 /First {len(header)} /Filter /FlateDecode "
            f"/Length {len(packed)} >>\nstream\n".encode() + packed + b"\nendstream")
        in_stream[field] = (stream_num, 0)
    xref_num = n + 3 + 2 * streams
    xref_at = len(out)
    entries = sorted([(num, (1, off, 0)) for num, off in offsets.items()]
                     + [(num, (2, s, i)) for num, (s, i) in in_stream.items()]
                     + [(xref_num, (1, xref_at, 0))])
    if base is None:
        entries = [(0, (0, 0, 65535))] + entries
    rows = b"".join(t.to_bytes(1, "big") + a.to_bytes(4, "big") + b.to_bytes(2, "big")
                    for _, (t, a, b) in entries)
    index = " ".join(f"{num} 1" for num, _ in entries)
    extra = f" /Prev {prev}" if prev is not None else ""
    out.extend(f"{xref_num} 0 obj\n<< /Type /XRef /Size {xref_num + 1} /Root {catalog} 0 R "
               f"/W [1 4 2] /Index [{index}]{extra} /Length {len(rows)} >>\nstream\n".encode()
               + rows + f"\nendstream\nendobj\nstartxref\n{xref_at}\n%%EOF\n".encode())
    return bytes(out)


def _startxref(data: bytes) -> int:
    tail = data[-1024:]
    at = tail.rindex(b"startxref")
    return int(tail[at + 9:].split()[0])


def mutants(original: bytes, count: int, seed: int = 12) -> Iterator[tuple[str, bytes]]:
    """``count`` deterministic variants of ``original``, each named by how it was made."""
    rng = random.Random(seed)
    # One in ten is a bomb: each of those runs into the time limit, the rest answer quickly.
    kinds = ("flip", "flips", "truncate", "duplicate", "splice", "flip", "truncate",
             "duplicate", "flips", "bomb")
    for i in range(count):
        kind = kinds[i % len(kinds)]
        data = bytearray(original)
        if kind == "flip":
            at = rng.randrange(len(data))
            data[at] ^= 1 << rng.randrange(8)
        elif kind == "flips":
            for _ in range(rng.randint(2, 64)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == "truncate":
            data = data[:rng.randrange(16, len(data))]
        elif kind == "duplicate":
            start = rng.randrange(len(data))
            chunk = data[start:start + rng.randint(1, 4096)]
            at = rng.randrange(len(data))
            data[at:at] = chunk * rng.randint(1, 8)
        elif kind == "splice":
            start = rng.randrange(len(data))
            end = min(len(data), start + rng.randint(1, 4096))
            del data[start:end]
        else:
            pad = rng.choice((64 * 1024, 1024 * 1024, BOMB_PAD))
            data = bytearray(object_stream_bomb(rng.randint(1, 60), pad, base=bytes(data),
                                                first_obj=_free_object(original)))
        yield f"{i:03d}-{kind}", bytes(data)


def _free_object(data: bytes) -> int:
    """An object number above every one ``data`` declares (its trailer's /Size is enough
    for certdesk's own files; a margin covers the rest)."""
    sizes = [int(m) for m in re.findall(rb"/Size (\d+)", data)]
    return max(sizes, default=1000) + 1000
