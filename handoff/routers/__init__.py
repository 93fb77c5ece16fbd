"""The hub's routers, one per resource."""

from handoff.routers import agent, canned, conversations, editor, handoffs, ops, ui

ALL = (conversations, handoffs, agent, canned, editor, ops, ui)
