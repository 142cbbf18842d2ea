"""The built-in catalogue of PMO services and outcomes (knowledge/catalogue/)."""

from __future__ import annotations

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

    def service_location(self, service_id: str, field: str | None = None) -> Location:
        return self.locations.get(("services", service_id, field or ""), self.locations[("services", service_id, "")])


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
