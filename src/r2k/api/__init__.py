"""The REST API and the web dashboard of ``r2k serve`` (FastAPI).

:func:`r2k.api.app.create_app` builds the application around a
:class:`r2k.api.service.Service`; importing this package imports neither FastAPI
nor any engine. See docs/api.md.
"""
