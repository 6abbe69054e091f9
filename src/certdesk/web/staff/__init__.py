"""The staff desk: signed-in pages under ``/staff`` for issuing staff, decision makers,
records officers and administrators (see docs/staff-desk.md).

``create_staff_router`` is imported on first use, so that ``store.staff`` (needed by
schema migrations) loads without the web stack and the lifecycle behind it.
"""

from typing import Any

__all__ = ["create_staff_router"]


def __getattr__(name: str) -> Any:
    if name == "create_staff_router":
        from certdesk.web.staff.router import create_staff_router

        return create_staff_router
    raise AttributeError(f"module 'certdesk.web.staff' has no attribute {name!r}")
