"""The player API: start a conversation, send messages, read history, rate, leave a ticket.

Every accepted message is stored (committed) before anything else happens. The widget sends its
own id with each message (``client_id``): a retried send whose answer was lost is recognised and
answered with what the first one got, never stored twice. Card numbers, IBANs, e-mail addresses
and phone numbers are masked before the text is stored for everyone, sent to Rasa, or shown in the
review inbox; the original is kept apart for the agent who holds the conversation only.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import APIRouter, Depends, Query, Request, WebSocket, WebSocketDisconnect
from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.language.names import SUPPORTED
from bot.privacy.redaction import redact
from bot.understanding.person_words import asks_for_person
from handoff import queue
from handoff.deps import Hub, client_address, current_conversation, get_hub, player_conversation
from handoff.errors import HubError, too_many
from handoff.models import Conversation, Message, Rating, Ticket, now
from handoff.rasa_client import BotReply, RasaUnavailable
from handoff.realtime import authenticated_socket, frames
from handoff.security import new_token, token_hash
from handoff.serialize import message_out
from handoff.validation import MAX_ID, CleanText, ClientId, Locale, RequestBody

router = APIRouter(prefix="/api/conversations", tags=["player"])

HUMAN_PAYLOAD = re.compile(r"^/request_human(\{.*\})?$")
TICKET_STATES = ("bot", "queued")  # not while an agent is in the chat, and once per conversation


class NewConversation(RequestBody):
    locale: Locale | None = None
    # The casino's own id of the logged-in player, if the page passes one (export and erasure).
    player_ref: CleanText | None = Field(None, max_length=128)


class PlayerMessage(RequestBody):
    text: CleanText
    # The title of the quick-reply button the player clicked (``text`` is then its payload):
    # what the player saw, so transcripts show "Withdrawal times", not "/faq{...}".
    title: CleanText | None = Field(None, max_length=200)
    client_id: ClientId | None = None


class ConversationUpdate(RequestBody):
    language: str = Field(pattern="^(fi|sv|ru|tr|en)$")


class RatingIn(RequestBody):
    score: int = Field(ge=1, le=5)
    comment: CleanText = Field("", max_length=2000)


class TicketIn(RequestBody):
    email: str = Field(pattern=r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$", max_length=254)
    text: CleanText = Field(min_length=1, max_length=4000)


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


def session_conversation(session: Session, conversation_id: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise HubError(404, "unknown conversation")
    return conversation


@router.post("", status_code=201)
async def create_conversation(
    request: Request, body: NewConversation | None = None, hub: Hub = Depends(get_hub)
) -> dict:
    wait = hub.conversation_starts.hit(client_address(request))
    if wait:
        raise too_many("too many new conversations from this address", wait)
    token = new_token()
    locale = (body.locale if body else None) or None
    language = locale[:2].lower() if locale and locale[:2].lower() in SUPPORTED else "en"
    player_ref = body.player_ref if body else None

    def create(session: Session) -> Conversation:
        conversation = Conversation(
            id=str(uuid.uuid4()), token_hash=token_hash(token), language=language, locale=locale, player_ref=player_ref
        )
        session.add(conversation)
        return conversation

    conversation = await hub.db.write(create)
    return {"conversation_id": conversation.id, "token": token, "language": language}


@dataclass
class Accepted:
    """What storing a player message decided (a snapshot, taken inside the unit of work)."""

    message: Message
    state: str
    agent_id: int | None
    metadata: dict  # for Rasa: the player's language choice or the browser's hint
    duplicate: bool = False  # a retry of a message already stored: its replies, not a new turn
    replies: list[Message] = field(default_factory=list)


def accept_player_message(
    session: Session, hub: Hub, conversation_id: str, text: str, title: str | None, client_id: str | None
) -> Accepted:
    conversation = session_conversation(session, conversation_id)
    if client_id:
        earlier = session.scalar(
            select(Message).where(Message.conversation_id == conversation_id, Message.client_id == client_id)
        )
        if earlier is not None:
            replies = session.scalars(select(Message).where(Message.reply_to == earlier.id).order_by(Message.id)).all()
            return Accepted(earlier, conversation.state, conversation.agent_id, {}, True, list(replies))
    recent = session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.sender == "player",
            Message.created_at >= now() - timedelta(minutes=1),
        )
    )
    if recent >= hub.settings.player_rate_limit_per_minute:
        raise too_many("too many messages: wait a moment and send again", 60)
    if conversation.state == "closed":
        raise HubError(409, "conversation closed", "start a new conversation")
    first_turn = not session.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.conversation_id == conversation_id, Message.sender != "player")
    )
    # The player's own choice in the widget decides every turn; the browser's locale is only a hint
    # for the first turn, used when the words themselves do not show the language.
    if conversation.language_chosen:
        metadata = {"locale": conversation.language}
    else:
        metadata = {"locale_hint": conversation.locale} if conversation.locale and first_turn else {}
    is_button = text.startswith("/")
    masked = text if is_button else redact(text).text
    meta = {"button_title": title.strip()} if title and title.strip() and is_button else {}
    message = store(
        session,
        conversation,
        "player",
        masked,
        meta=meta,
        client_id=client_id,
        original_text=text if masked != text else None,
    )
    session.flush()
    return Accepted(message, conversation.state, conversation.agent_id, metadata)


async def store_once(hub: Hub, conversation_id: str, body: PlayerMessage, text: str) -> Accepted:
    """Store the message, or find it when this is a retry (also when two retries race)."""
    try:
        return await hub.db.write(
            lambda s: accept_player_message(s, hub, conversation_id, text, body.title, body.client_id)
        )
    except IntegrityError:  # the same client_id committed by a concurrent request just now
        return await hub.db.write(
            lambda s: accept_player_message(s, hub, conversation_id, text, body.title, body.client_id)
        )


@router.post("/{conversation_id}/messages")
async def post_message(
    body: PlayerMessage,
    conversation: Conversation = Depends(current_conversation),
    hub: Hub = Depends(get_hub),
) -> dict:
    text = body.text.strip()
    limit = hub.settings.player_text_max_chars
    if not text:
        raise HubError(422, "empty message", "the text must contain something")
    if len(text) > limit:
        raise HubError(422, "message too long", f"at most {limit} characters")
    accepted = await store_once(hub, conversation.id, body, text)
    if accepted.duplicate:
        replies = accepted.replies
    else:
        await hub.broadcaster.to_agents(
            {
                "type": "player_message",
                "conversation_id": conversation.id,
                "message": message_out(accepted.message, True),
            },
            [accepted.agent_id] if accepted.agent_id else None,
        )
        replies = (
            await bot_turn(hub, conversation.id, accepted.message, accepted.metadata) if accepted.state == "bot" else []
        )
        for reply in replies:  # also on the socket: a send whose answer is lost still shows the replies
            await hub.broadcaster.to_player(conversation.id, {"type": "message", "message": message_out(reply)})
    return {
        "message_id": accepted.message.id,
        "duplicate": accepted.duplicate,
        "status": await hub.db.read(lambda s: status_of(s, hub, session_conversation(s, conversation.id))),
        "messages": [message_out(m) for m in replies],
    }


async def bot_turn(hub: Hub, conversation_id: str, message: Message, metadata: dict) -> list[Message]:
    """Forward the (masked) text to Rasa, no transaction open meanwhile, and store its replies; if
    Rasa is down, say so and offer a person."""
    try:
        replies = await hub.rasa.send(conversation_id, message.text, metadata)
    except RasaUnavailable:
        replies = []

    def store_turn(session: Session) -> list[Message]:
        return store_bot_turn(session, hub, session_conversation(session, conversation_id), message, replies)

    return await hub.db.write(store_turn)


def store_bot_turn(
    session: Session, hub: Hub, conversation: Conversation, asked: Message, replies: list[BotReply]
) -> list[Message]:
    if not replies and conversation.state == "bot":
        # Rasa is down, or answered nothing because its action server failed. A request for a
        # person, the button or typed in any of our languages, still reaches a person.
        if HUMAN_PAYLOAD.match(asked.text) or asks_for_person(asked.text):
            queue.enqueue(session, conversation, "player_request", "normal", [])
            return handoff_notices(session, hub, conversation, asked.id)
        return [bot_unavailable(session, hub, conversation, asked.id)]
    stored = []
    for reply in replies:
        meta = dict(reply.meta)
        if meta.get("language") in SUPPORTED:
            conversation.language = meta["language"]
        if meta.get("handoff"):
            meta["handoff"] = {**meta["handoff"], **handoff_position(session, hub, conversation)}
        stored.append(
            store(session, conversation, "bot", reply.text, buttons=reply.buttons, meta=meta, reply_to=asked.id)
        )
    if conversation.state == "queued":  # the bot handed off during this turn
        stored += handoff_notices(session, hub, conversation, asked.id)
    session.flush()
    return stored


def bot_unavailable(session: Session, hub: Hub, conversation: Conversation, reply_to: int) -> Message:
    """Tell the player the bot has a problem, with a "talk to a person" button that works anyway."""
    language = conversation.language
    button = {"title": hub.bot_texts.button("talk_to_person", language), "payload": "/request_human"}
    message = store(
        session,
        conversation,
        "system",
        hub.bot_texts.text("utter_bot_unavailable", language),
        buttons=[button],
        meta={"language": language, "error": "bot_unavailable", "outcome": "bot_unavailable"},
        reply_to=reply_to,
    )
    session.flush()
    return message


def handoff_position(session: Session, hub: Hub, conversation: Conversation) -> dict:
    session.flush()
    place, wait = queue.place_and_wait(session, conversation, hub.settings.default_wait_s)
    return {"position": place, "estimated_wait_s": wait}


def handoff_notices(session: Session, hub: Hub, conversation: Conversation, reply_to: int) -> list[Message]:
    """After a handoff: the queue position, or the ticket offer when nobody is online."""
    language = conversation.language
    if queue.agents_online(session, language, hub.settings.presence_ttl_s) == 0:
        text, meta = hub.say("hub_no_agents", language), {"ticket_offer": True}
    else:
        info = handoff_position(session, hub, conversation)
        minutes = max(1, round((info["estimated_wait_s"] or 60) / 60))
        text = hub.say("hub_queued", language, position=info["position"], wait_minutes=minutes)
        meta = {"queue": info}
    message = store(
        session,
        conversation,
        "system",
        text,
        meta={"language": language, "outcome": "queued", **meta},
        reply_to=reply_to,
    )
    session.flush()
    return [message]


@router.patch("/{conversation_id}")
async def choose_language(
    body: ConversationUpdate,
    conversation: Conversation = Depends(current_conversation),
    hub: Hub = Depends(get_hub),
) -> dict:
    """The widget's language selector: from now on the bot and the queue use this language."""

    def choose(session: Session) -> dict:
        row = session_conversation(session, conversation.id)
        row.language = body.language
        row.language_chosen = True
        session.flush()
        return {"language": row.language, "status": status_of(session, hub, row)}

    return await hub.db.write(choose)


@router.get("/{conversation_id}/messages")
async def history(
    after: int = Query(0, ge=0, le=MAX_ID),
    conversation: Conversation = Depends(current_conversation),
    hub: Hub = Depends(get_hub),
) -> dict:
    def read(session: Session) -> dict:
        rows = session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id, Message.id > after, Message.internal.is_(False))
            .order_by(Message.id)
        ).all()
        status = status_of(session, hub, session_conversation(session, conversation.id))
        return {"status": status, "messages": [message_out(m) for m in rows]}

    return await hub.db.read(read)


@router.post("/{conversation_id}/rating", status_code=201)
async def rate(
    body: RatingIn, conversation: Conversation = Depends(current_conversation), hub: Hub = Depends(get_hub)
) -> dict:
    def add(session: Session) -> dict:
        row = session_conversation(session, conversation.id)
        if session.get(Rating, row.id) is not None:
            raise HubError(409, "already rated", "a conversation is rated once")
        if row.claimed_at is None:
            raise HubError(409, "nothing to rate", "rate after an agent has helped you")
        session.add(Rating(conversation_id=row.id, score=body.score, comment=body.comment, agent_id=row.agent_id))
        return {"ok": True}

    return await hub.db.write(add)


@router.post("/{conversation_id}/ticket", status_code=201)
async def ticket(
    body: TicketIn,
    conversation: Conversation = Depends(current_conversation),
    hub: Hub = Depends(get_hub),
) -> dict:
    def leave(session: Session) -> tuple[Ticket, Message]:
        row = session_conversation(session, conversation.id)
        if row.state not in TICKET_STATES:
            raise HubError(409, "no ticket now", f"the conversation is {row.state}")
        item = Ticket(conversation_id=row.id, email=body.email, text=redact(body.text).text)
        session.add(item)
        row.state = "ticket"
        confirmation = store(session, row, "system", hub.say("hub_ticket_received", row.language, email=body.email))
        session.flush()
        hub.mail_ticket(session, item, row.language, body.text)  # stored with the ticket, sent after
        return item, confirmation

    item, confirmation = await hub.db.write(leave)
    hub.outbox_nudge()
    await hub.broadcaster.to_agents({"type": "ticket", "ticket_id": item.id, "conversation_id": conversation.id})
    return {"ticket_id": item.id, "messages": [message_out(confirmation)]}


@router.websocket("/{conversation_id}/ws")
async def player_socket(websocket: WebSocket, conversation_id: str) -> None:
    """Pushed ``message``, ``status`` and ``typing`` events. The first frame authenticates:
    ``{"type": "auth", "token": "<player token>"}`` (never in the URL, which ends up in logs)."""
    hub: Hub = websocket.app.state.hub

    async def check(token: str) -> bool:
        try:
            await hub.db.read(lambda s: player_conversation(conversation_id, token, s))
        except HubError:
            return False
        return True

    if not await authenticated_socket(websocket, check):
        return
    hub.broadcaster.add_player(conversation_id, websocket)
    try:
        async for event in frames(websocket):
            if event.get("type") == "typing":
                agent_id = await hub.db.read(
                    lambda s: c.agent_id if (c := s.get(Conversation, conversation_id)) else None
                )
                if agent_id:
                    await hub.broadcaster.to_agents({"type": "typing", "conversation_id": conversation_id}, [agent_id])
    except (WebSocketDisconnect, ValueError):
        pass
    finally:
        hub.broadcaster.remove_player(conversation_id, websocket)
