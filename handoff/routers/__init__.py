"""The hub's routers, one per resource."""

from handoff.routers import admin, agent, canned, conversations, editor, handoffs, ops, ui

ALL = (conversations, handoffs, agent, canned, editor, admin, ops, ui)
