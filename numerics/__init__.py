"""Numerics of LR Workbench: schedules, exact SGD dynamics, simulators, control, FSL, fitting, CLI.

May import :mod:`theory`; :mod:`theory` never imports this package.
"""

__all__: list[str] = []
