"""Capabilities of erasure."""

from apps.access.registry import Capability

CAPABILITIES = [
    Capability(
        "erasure.view",
        "See erasure requests",
        "See erasure requests, their deadlines, the per-tool tasks and the evidence report. "
        "Identifiers are shown masked.",
    ),
    Capability(
        "erasure.request",
        "Log and verify erasure requests",
        "Log requests from any channel, verify the requester, extend a deadline with a reason, "
        "retry a failed task and confirm manual deletions assigned to you.",
        sensitive=True,
    ),
    Capability(
        "erasure.approve",
        "Approve erasure",
        "Approve a verified request: the person is suppressed at once, erased from the "
        "console and the erasure is sent to every tool that holds their data.",
        sensitive=True,
    ),
]
