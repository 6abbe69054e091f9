"""Certificate numbers: the grammar (pure) and allocation of sequences (database)."""

from numbering.grammar import SCHEMES, CertNumber, body_code_from_approval, parse

__all__ = ["SCHEMES", "CertNumber", "body_code_from_approval", "parse"]
