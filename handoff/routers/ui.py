"""The browser faces: the demo casino page with the chat widget at ``/``, the agent console at
``/agent``, their static files under ``/static``, and the widget's UI strings in five languages."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from bot.kb.texts import load_texts
from handoff.deps import Hub, get_hub

WEB_DIR = Path(__file__).resolve().parent.parent / "web"

router = APIRouter(tags=["pages"])


@router.get("/", include_in_schema=False)
def demo_page() -> FileResponse:
    return FileResponse(WEB_DIR / "demo.html")


@router.get("/agent", include_in_schema=False)
def agent_console() -> FileResponse:
    return FileResponse(WEB_DIR / "agent.html")


@router.get("/widget.js", include_in_schema=False)
def widget_script() -> FileResponse:
    """The one script a casino page embeds: ``<script src="https://hub/widget.js" defer></script>``."""
    return FileResponse(WEB_DIR / "widget.js", media_type="text/javascript")


@router.get("/api/ui/widget-texts")
def widget_texts(hub: Hub = Depends(get_hub)) -> dict:
    """Every UI string of the widget, per language (``data/texts/widget/<lang>.yml``)."""
    texts = load_texts(hub.settings.data_dir / "texts" / "widget")
    return {"languages": texts.texts}
