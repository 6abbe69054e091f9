"""The staff desk: signed-in pages under ``/staff`` for issuing staff, decision makers,
records officers and administrators (see docs/staff-desk.md).

One module per area, each a plain ``APIRouter`` (``sign_in``, ``home``, ``issuing``,
``actions``, ``records``, ``account_pages``, ``reporting``, ``register``, ``audit_log``);
``router.mount(app, settings, engine)`` serves them all with their shared state.
"""
