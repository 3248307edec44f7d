"""Capabilities of the PPS intake."""

from apps.access.registry import Capability

CAPABILITIES = [
    Capability(
        "intake.submit",
        "Submit intake requests",
        "Start a request for a new tool and walk it through Problem, People and System.",
    ),
    Capability(
        "intake.decide",
        "Decide intake requests",
        "See every intake request; approve, reject or defer those you are an approver of.",
    ),
]
