"""Every dialog the engine knows, by name."""

from __future__ import annotations

import importlib

from dialogs.engine import Dialog
from dialogs.registration import REGISTRATION

# Modules with a ``DIALOGS`` list of further dialogs (posting a vacancy, enterprise report…).
DIALOG_MODULES: tuple[str, ...] = (
    "dialogs.link_account",
    "dialogs.vacancy_post",
    "dialogs.training_post",
    "dialogs.workbench_forms",
    "dialogs.departure_declaration",
    "dialogs.complaint",
)


def all_dialogs() -> list[Dialog]:
    dialogs = [REGISTRATION]
    for name in DIALOG_MODULES:
        dialogs.extend(importlib.import_module(name).DIALOGS)
    return dialogs
