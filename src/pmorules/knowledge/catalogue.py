"""The built-in catalogue of PMO services and outcomes (knowledge/catalogue/)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from ..errors import Diagnostic, InputError, Location
from .spec import CatalogueFile, CatalogueOutcome, CatalogueService
from ..paths import catalogue_dir
from ..yamlio import locate, read_yaml


@dataclass(frozen=True)
class Catalogue:
    services: dict[str, CatalogueService]
    outcomes: dict[str, CatalogueOutcome]
    locations: dict[tuple[str, ...], Location]

    def choice(self, entry_id: str) -> str:
        """A catalogue service or outcome as a workbook's drop-down shows it: ``S16 – Data analytics and reporting``."""
        entry = self.services.get(entry_id) or self.outcomes[entry_id]
        return f"{entry_id}{DASH}{entry.name}"

    def service_location(self, service_id: str, field: str | None = None) -> Location:
        return self.locations.get(("services", service_id, field or ""), self.locations[("services", service_id, "")])


DASH = " – "  # between id and name in a drop-down entry
_CHOSEN = re.compile(r"(\S+)\s+[–—-]\s+(.+)", re.DOTALL)  # an id holds no space, so the first dash ends it


def chosen_id(text: str, entries: dict[str, CatalogueService] | dict[str, CatalogueOutcome]) -> tuple[str, str | None]:
    """The id a drop-down entry (``S16 – Data analytics and reporting``) stands for, else the text unchanged (the
    format then refuses it as an id); and what is wrong when the name is not that entry's (the id is kept, so the
    cell has one error)."""
    found = _CHOSEN.fullmatch(text.strip())
    entry = entries.get(found.group(1)) if found else None
    if found is None or entry is None:
        return text, None
    name = " ".join(found.group(2).split())
    if name.casefold() != " ".join(entry.name.split()).casefold():
        return entry.id, f"{text!r}: {entry.id} is {entry.name!r}, not {name!r}"
    return entry.id, None


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """Read and validate the catalogue once per process."""
    services: dict[str, CatalogueService] = {}
    outcomes: dict[str, CatalogueOutcome] = {}
    locations: dict[tuple[str, ...], Location] = {}
    for name in ("outcomes.yaml", "services.yaml"):
        display = f"catalogue/{name}"
        raw: Any = read_yaml(catalogue_dir() / name, display)
        try:
            parsed = CatalogueFile.model_validate(raw)
        except ValidationError as exc:
            raise InputError(
                [Diagnostic(locate(raw, tuple(e["loc"]), display), e["msg"]) for e in exc.errors()]
            ) from None
        for index, service in enumerate(parsed.services):
            services[service.id] = service
            locations[("services", service.id, "")] = locate(raw, ("services", index), display)
            for field in raw["services"][index]:
                locations[("services", service.id, field)] = locate(raw, ("services", index, field), display)
        for index, outcome in enumerate(parsed.outcomes):
            outcomes[outcome.id] = outcome
            locations[("outcomes", outcome.id, "")] = locate(raw, ("outcomes", index), display)
    return Catalogue(services, outcomes, locations)
