"""The app layer of LR Workbench: what a user runs. Imports every layer below; nothing imports it.

- :mod:`~lrwb.app.cli` — the ``lrwb`` command (one module per sub-command);
- :mod:`~lrwb.app.reproduce` — ``lrwb reproduce``: the cached runner of every experiment, and :func:`load`,
  which reads a results folder back;
- :mod:`~lrwb.app.report` — ``report.md`` / ``report.html`` from the runner's records.

>>> from lrwb import app
>>> app.reproduce.MANIFEST
'manifest.json'
"""

from __future__ import annotations

from lrwb.lazy import lazy_exports

#: The modules of the layer, imported on first attribute access.
MODULES = ("cli", "reproduce", "report")

__all__ = list(MODULES)


# PEP 562: the CLI and the runner load every layer below
__getattr__, __dir__ = lazy_exports(__name__, MODULES)
