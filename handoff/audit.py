"""The audit log: who did what, when (GDPR audits ask for it; so do support leads after an incident).

``record`` adds the event inside the caller's unit of work, so an action and its audit line are
committed together or not at all.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from handoff.models import AuditEvent

ACTIONS = (
    "login",
    "login_failed",
    "logout",
    "claim",
    "transfer",
    "resolve",
    "close",
    "transcript_read",
    "canned_edit",
    "kb_edit",
    "review",
    "publish",
    "export",
    "erasure",
    "retention_purge",
)


def record(
    session: Session,
    actor: str,
    action: str,
    target: str | None = None,
    address: str | None = None,
    **detail: object,
) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    session.add(AuditEvent(actor=actor[:64], action=action, target=target, detail=detail, address=address))
