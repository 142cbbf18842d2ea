"""The knowledge of a workspace: its format (spec), the catalogue, loading and resolving."""

from .base import (
    AgreedAction, DEFAULT_MONTHS, DEFAULT_PROBABILITY, Dependency, Harm, InputFile, KnowledgeBase, Mitigator, OutcomeLink, ReviewDate,
    Service, SwitchedOff, term_for_months,
)
from .load import knowledge_files, load_workspace

__all__ = [
    "AgreedAction", "DEFAULT_MONTHS", "DEFAULT_PROBABILITY", "Dependency", "Harm", "InputFile", "KnowledgeBase", "Mitigator",
    "OutcomeLink", "ReviewDate", "Service", "SwitchedOff", "knowledge_files", "load_workspace", "term_for_months",
]
