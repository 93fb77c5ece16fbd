"""The player API: start a conversation, send messages, read history, rate, leave a ticket."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import APIRouter, Depends, Query, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.language.names import SUPPORTED
from handoff import queue
from handoff.deps import Hub, current_conversation, get_hub, get_session, player_conversation
from handoff.errors import HubError
from handoff.models import Conversation, Message, Rating, Ticket, now
from handoff.rasa_client import RasaUnavailable
from handoff.security import new_token, token_hash
from handoff.serialize import message_out

router = APIRouter(prefix="/api/conversations", tags=["player"])

HUMAN_PAYLOAD = re.compile(r"^/request_human(\{.*\})?$")


class NewConversation(BaseModel):
    locale: str | None = Field(None, max_length=16)


class PlayerMessage(BaseModel):
    text: str
    # The title of the quick-reply button the player clicked (``text`` is then its payload):
    # what the player saw, so transcripts show "Withdrawal times", not "/faq{...}".
    title: str | None = Field(None, max_length=200)


class ConversationUpdate(BaseModel):
    language: str = Field(pattern="^(fi|sv|ru|tr|en)$")


class RatingIn(BaseModel):
    score: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=2000)


class TicketIn(BaseModel):
    email: str = Field(pattern=r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$", max_length=254)
    text: str = Field(min_length=1, max_length=4000)


def store(session: Session, conversation: Conversation, sender: str, text: str, **fields) -> Message:
    message = Message(conversation_id=conversation.id, sender=sender, text=text, **fields)
    session.add(message)
    return message


def status_of(session: Session, hub: Hub, conversation: Conversation) -> dict:
    place, wait = queue.place_and_wait(session, conversation, hub.settings.default_wait_s)
    agent = conversation.agent.display_name if conversation.agent else None
    return {
        "state": conversation.state,
        "language": conversation.language,
        "position": place,
        "estimated_wait_s": wait,
        "agent": agent,
    }


@router.post("", status_code=201)
def create_conversation(body: NewConversation | None = None, session: Session = Depends(get_session)) -> dict:
    import uuid

    token = new_token()
    locale = (body.locale if body else None) or None
    language = locale[:2].lower() if locale and locale[:2].lower() in SUPPORTED else "en"
    conversation = Conversation(id=str(uuid.uuid4()), token_hash=token_hash(token), language=language, locale=locale)
    session.add(conversation)
    session.commit()
    return {"conversation_id": conversation.id, "token": token, "language": language}


@router.post("/{conversation_id}/messages")
async def post_message(
    body: PlayerMessage,
    conversation: Conversation = Depends(current_conversation),
    session: Session = Depends(get_session),
    hub: Hub = Depends(get_hub),
) -> dict:
    text = body.text.strip()
    limit = hub.settings.player_text_max_chars
    if not text:
        raise HubError(422, "empty message", "the text must contain something")
    if len(text) > limit:
        raise HubError(422, "message too long", f"at most {limit} characters")
    recent = session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.sender == "player",
            Message.created_at >= now() - timedelta(minutes=1),
        )
    )
    if recent >= hub.settings.player_rate_limit_per_minute:
        raise HubError(429, "too many messages", "wait a moment and send again")
    if conversation.state == "closed":
        raise HubError(409, "conversation closed", "start a new conversation")

    meta = {"button_title": body.title.strip()} if body.title and body.title.strip() and text.startswith("/") else {}
    player_message = store(session, conversation, "player", text, meta=meta)
    session.commit()  # stored before anything else happens: never lost
    await hub.broadcaster.to_agents(
        {"type": "player_message", "conversation_id": conversation.id, "message": message_out(player_message, True)},
        [conversation.agent_id] if conversation.agent_id else None,
    )
    replies = await bot_turn(session, hub, conversation, text) if conversation.state == "bot" else []
    return {
        "message_id": player_message.id,
        "status": status_of(session, hub, conversation),
        "messages": [message_out(m) for m in replies],
    }


async def bot_turn(session: Session, hub: Hub, conversation: Conversation, text: str) -> list[Message]:
    """Forward to Rasa and store its replies; if Rasa is down, say so and offer a person."""
    first_turn = (
        session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.conversation_id == conversation.id, Message.sender != "player")
        )
        == 0
    )
    # The player's own choice in the widget decides every turn; the browser's locale is only a hint
    # for the first turn, used when the words themselves do not show the language.
    if conversation.language_chosen:
        metadata = {"locale": conversation.language}
    else:
        metadata = {"locale_hint": conversation.locale} if conversation.locale and first_turn else {}
    session.commit()  # end the read transaction: never hold the database while waiting for Rasa
    try:
        replies = await hub.rasa.send(conversation.id, text, metadata)
        session.refresh(conversation)  # the bot may have handed off during this turn
    except RasaUnavailable:
        replies = []
    if not replies and conversation.state == "bot":
        # Rasa is down, or answered nothing because its action server failed.
        if HUMAN_PAYLOAD.match(text):  # the "talk to a person" button works even without the bot
            queue.enqueue(session, conversation, "player_request", "normal", [])
            session.commit()
            return handoff_notices(session, hub, conversation)
        return [bot_unavailable(session, hub, conversation)]
    stored = []
    for reply in replies:
        meta = dict(reply.meta)
        if meta.get("language") in SUPPORTED:
            conversation.language = meta["language"]
        if meta.get("handoff"):
            meta["handoff"] = {**meta["handoff"], **handoff_position(session, hub, conversation)}
        stored.append(store(session, conversation, "bot", reply.text, buttons=reply.buttons, meta=meta))
    session.commit()
    if conversation.state == "queued":
        stored += handoff_notices(session, hub, conversation)
    return stored


def bot_unavailable(session: Session, hub: Hub, conversation: Conversation) -> Message:
    """Tell the player the bot has a problem, with a "talk to a person" button that works anyway."""
    language = conversation.language
    button = {"title": hub.bot_texts.button("talk_to_person", language), "payload": "/request_human"}
    message = store(
        session,
        conversation,
        "system",
        hub.bot_texts.text("utter_bot_unavailable", language),
        buttons=[button],
        meta={"language": language, "error": "bot_unavailable"},
    )
    session.commit()
    return message


def handoff_position(session: Session, hub: Hub, conversation: Conversation) -> dict:
    place, wait = queue.place_and_wait(session, conversation, hub.settings.default_wait_s)
    return {"position": place, "estimated_wait_s": wait}


def handoff_notices(session: Session, hub: Hub, conversation: Conversation) -> list[Message]:
    """After a handoff: the queue position, or the ticket offer when nobody is online."""
    if queue.agents_online(session, conversation.language) == 0:
        text, meta = hub.say("hub_no_agents", conversation.language), {"ticket_offer": True}
    else:
        info = handoff_position(session, hub, conversation)
        minutes = max(1, round((info["estimated_wait_s"] or 60) / 60))
        text = hub.say("hub_queued", conversation.language, position=info["position"], wait_minutes=minutes)
        meta = {"queue": info}
    message = store(session, conversation, "system", text, meta={"language": conversation.language, **meta})
    session.commit()
    return [message]


@router.patch("/{conversation_id}")
def choose_language(
    body: ConversationUpdate,
    conversation: Conversation = Depends(current_conversation),
    session: Session = Depends(get_session),
    hub: Hub = Depends(get_hub),
) -> dict:
    """The widget's language selector: from now on the bot and the queue use this language."""
    conversation.language = body.language
    conversation.language_chosen = True
    session.commit()
    return {"language": conversation.language, "status": status_of(session, hub, conversation)}


@router.get("/{conversation_id}/messages")
def history(
    after: int = Query(0, ge=0),
    conversation: Conversation = Depends(current_conversation),
    session: Session = Depends(get_session),
    hub: Hub = Depends(get_hub),
) -> dict:
    rows = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.id > after, Message.internal.is_(False))
        .order_by(Message.id)
    ).all()
    return {"status": status_of(session, hub, conversation), "messages": [message_out(m) for m in rows]}


@router.post("/{conversation_id}/rating", status_code=201)
def rate(
    body: RatingIn, conversation: Conversation = Depends(current_conversation), session: Session = Depends(get_session)
) -> dict:
    if session.get(Rating, conversation.id) is not None:
        raise HubError(409, "already rated", "a conversation is rated once")
    if conversation.claimed_at is None:
        raise HubError(409, "nothing to rate", "rate after an agent has helped you")
    session.add(
        Rating(conversation_id=conversation.id, score=body.score, comment=body.comment, agent_id=conversation.agent_id)
    )
    session.commit()
    return {"ok": True}


@router.post("/{conversation_id}/ticket", status_code=201)
async def ticket(
    body: TicketIn,
    conversation: Conversation = Depends(current_conversation),
    session: Session = Depends(get_session),
    hub: Hub = Depends(get_hub),
) -> dict:
    row = Ticket(conversation_id=conversation.id, email=body.email, text=body.text)
    session.add(row)
    conversation.state = "ticket"
    confirmation = store(
        session, conversation, "system", hub.say("hub_ticket_received", conversation.language, email=body.email)
    )
    session.commit()
    hub.outbox(f"ticket {row.id} from {body.email} ({conversation.language})")
    await hub.broadcaster.to_agents({"type": "ticket", "ticket_id": row.id, "conversation_id": conversation.id})
    return {"ticket_id": row.id, "messages": [message_out(confirmation)]}


@router.websocket("/{conversation_id}/ws")
async def player_socket(websocket: WebSocket, conversation_id: str, token: str = Query("")) -> None:
    hub: Hub = websocket.app.state.hub
    with hub.sessions() as session:
        try:
            player_conversation(conversation_id, token, session)
        except HubError:
            await websocket.close(code=4403)
            return
    await websocket.accept()
    hub.broadcaster.add_player(conversation_id, websocket)
    try:
        while True:
            event = await websocket.receive_json()
            if event.get("type") == "typing":
                with hub.sessions() as session:  # closed before the await below (see deps.py)
                    conversation = session.get(Conversation, conversation_id)
                    agent_id = conversation.agent_id if conversation else None
                if agent_id:
                    await hub.broadcaster.to_agents({"type": "typing", "conversation_id": conversation_id}, [agent_id])
    except (WebSocketDisconnect, ValueError):
        pass
    finally:
        hub.broadcaster.remove_player(conversation_id, websocket)
