"""The public face: one router module per area — ``certificates`` (home, the certificate
page and JSON, the API description), ``verify`` (the PDF check, the published keys),
``notices``, ``search`` — with what they read in ``views`` and their dependencies in
``deps``. The app factory, guards, languages, responses and cached answers they share stay
in ``certdesk.web``."""
