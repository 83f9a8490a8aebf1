"""Handover schemes, one module each: a module defines `SCHEME`, an instance of a `base.Scheme` subclass.

Adding a scheme (e.g. MIH pre-authentication) is adding a module here; `available()` finds it.
"""
from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from testbed.campaign.schemes.base import Scheme


@cache
def available() -> dict[str, Scheme]:
    out: dict[str, Scheme] = {}
    for mod in pkgutil.iter_modules(__path__):
        if mod.name == "base" or mod.name.startswith("_"):
            continue
        scheme = getattr(importlib.import_module(f"{__name__}.{mod.name}"), "SCHEME", None)
        if isinstance(scheme, Scheme):
            out[scheme.name] = scheme
    return out


def get(name: str) -> Scheme:
    return available()[name]
