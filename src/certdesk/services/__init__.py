"""The certification lifecycle: issuing, status changes, re-issue and re-certification.

Orchestration only: it asks ``rules`` and ``numbering`` for values, ``docgen`` for
documents, ``signing`` for signatures and ``archive`` to keep them.
"""
