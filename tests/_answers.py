"""Sequence Agent answers as Octave documents them, for the result-column tests."""

from __future__ import annotations

from typing import Any

from octave_frames._constants import SECTIONS

__all__ = ["answer", "email"]


def email(step: int, **sections: Any) -> dict[str, Any]:
    """One email of a sequence, every section filled unless overridden."""
    filled: dict[str, Any] = {key: f"{key} {step}" for key in SECTIONS}
    filled.update(sections)
    return {
        "email": "ann@acme.com",
        "subject": f"Subject {step}",
        "coreValueProp": f"Value {step}",
        "sections": filled,
    }


def answer(steps: int = 2, *, request_id: str = "req_1", **data: Any) -> dict[str, Any]:
    """A documented Sequence Agent envelope with ``steps`` emails."""
    body: dict[str, Any] = {
        "emails": [email(i) for i in range(1, steps + 1)],
        "product": {"name": "Octave", "matchConfidence": "HIGH", "matchAnalysis": "Fits"},
        "persona": {"name": "Sales Leader", "matchConfidence": "MEDIUM", "matchAnalysis": "Ok"},
        "playbook": {"name": "Outbound", "matchConfidence": "LOW", "matchAnalysis": "Weak"},
        "outputType": "SCOPED_PLAYBOOK",
        "annotations": {"annotations": [], "metadata": None},
    }
    body.update(data)
    return {
        "_metadata": {"requestId": request_id, "timestamp": "t", "usage": 2, "message": "m"},
        "found": True,
        "message": None,
        "data": body,
    }
