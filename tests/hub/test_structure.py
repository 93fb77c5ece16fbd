"""Transaction scope is structural: no route can reach a database session except through a unit of
work (``hub.db.read`` / ``hub.db.write``), which always ends and never runs on the event loop."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute, APIWebSocketRoute
from sqlalchemy.orm import Session

from bot.settings import PROJECT_ROOT
from handoff.routers import ALL as ROUTERS


def dependencies(dependant):
    yield dependant
    for sub in dependant.dependencies:
        yield from dependencies(sub)


def test_no_route_or_dependency_receives_a_session():
    routes = [
        route for module in ROUTERS for route in module.router.routes if isinstance(route, APIRoute | APIWebSocketRoute)
    ]
    assert len(routes) > 30
    for route in routes:
        for dependant in dependencies(route.dependant):
            params = dependant.query_params + dependant.path_params + dependant.header_params + dependant.body_params
            assert all(p.field_info.annotation is not Session for p in params), route.path
            call = dependant.call
            annotations = getattr(call, "__annotations__", {}) if call else {}
            assert "Session" not in " ".join(map(str, annotations.values())), (route.path, call)


def test_sessions_are_only_opened_by_the_unit_of_work():
    opened = re.compile(r"sessionmaker\(|\bSession\(|\.sessions\(\)|engine\.connect\(\)")
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "handoff").rglob("*.py")
        if path.name not in ("db.py", "migrate.py", "env.py") and opened.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_every_request_body_refuses_control_characters_in_any_field():
    """Each body model inherits ``RequestBody`` (a NUL in an id was a 500 on PostgreSQL)."""
    import inspect

    from pydantic import BaseModel

    from handoff.validation import RequestBody

    bodies = {
        param.field_info.annotation
        for module in ROUTERS
        for route in module.router.routes
        if isinstance(route, APIRoute)
        for param in route.dependant.body_params
        if inspect.isclass(param.field_info.annotation) and issubclass(param.field_info.annotation, BaseModel)
    }
    assert len(bodies) > 10
    assert [body.__name__ for body in bodies if not issubclass(body, RequestBody)] == []
