"""The agent API: log in, see the queue, claim, answer, transfer, hand back to the bot, close.

Access follows the conversation's state: only the agent holding a conversation (or an admin) may
write to it, transfer, resolve or close it, or send "typing" to its player; a queued conversation
can be previewed by any agent (without internal notes) before claiming it; any other transcript is
for admins. Logins, claims, transfers, resolves, closes and transcript reads go to the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import anyio
from fastapi import APIRouter, Depends, Header, Path, Query, Request, WebSocket, WebSocketDisconnect
from pydantic import Field
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from handoff import queue, throttle
from handoff.audit import record
from handoff.deps import Hub, agent_for_token, bearer, client_address, current_agent, get_hub
from handoff.errors import HubError, too_many
from handoff.models import AgentToken, Conversation, Message, Ticket, User, now
from handoff.rasa_client import RasaUnavailable
from handoff.realtime import authenticated_socket, frames
from handoff.security import new_token, token_hash, verify_password
from handoff.serialize import message_out
from handoff.validation import CleanText, RequestBody

router = APIRouter(prefix="/api/agent", tags=["agent"])

ConversationId = Path(max_length=64)
HEARTBEAT_S = 30.0  # a connected console refreshes the agent's presence this often


class Login(RequestBody):
    username: CleanText = Field(max_length=64)
    password: str = Field(max_length=256)


class AgentMessage(RequestBody):
    text: CleanText = Field(min_length=1, max_length=4000)
    internal: bool = False
    faq_id: str | None = Field(None, max_length=64)  # the suggestion the agent inserted, if any


class Transfer(RequestBody):
    agent: str | None = Field(None, max_length=64)  # username; or
    language: str | None = Field(None, pattern="^(fi|sv|ru|tr|en)$")  # back to that language's queue


class Presence(RequestBody):
    presence: str = Field(pattern="^(online|away)$")


_password_checks: dict[int, anyio.CapacityLimiter] = {}


async def password_ok(password: str, stored_hash: str | None) -> bool:
    """argon2 in a worker thread, one at a time: guesses cannot take the hub's CPU (nor its event loop)."""
    loop = id(asyncio.get_running_loop())
    limiter = _password_checks.setdefault(loop, anyio.CapacityLimiter(1))
    return await anyio.to_thread.run_sync(verify_password, password, stored_hash, limiter=limiter)


@router.post("/login")
async def login(body: Login, request: Request, hub: Hub = Depends(get_hub)) -> dict:
    address = client_address(request)
    wait = await hub.db.read(lambda s: throttle.locked_for(s, body.username, address))
    if wait:
        raise too_many("too many failed logins: try again later", wait)
    user = await hub.db.read(lambda s: s.scalar(select(User).where(User.username == body.username)))
    if not await password_ok(body.password, user.password_hash if user else None):

        def failed(session: Session) -> None:
            throttle.failed(session, hub.settings, body.username, address)
            record(session, body.username, "login_failed", address=address)

        await hub.db.write(failed)
        raise HubError(401, "wrong username or password")
    token = new_token()
    expires = now() + timedelta(hours=hub.settings.agent_token_hours)

    def log_in(session: Session) -> None:
        throttle.succeeded(session, body.username, address)
        session.add(AgentToken(token_hash=token_hash(token), user_id=user.id, expires_at=expires))
        record(session, user.username, "login", address=address)

    await hub.db.write(log_in)
    return {"token": token, "expires_at": expires.isoformat(), "user": user_out(user)}


@router.post("/logout")
async def logout(authorization: str | None = Header(None), hub: Hub = Depends(get_hub)) -> dict:
    """Ends the login and the agent's presence: players are not queued behind someone who left."""
    token = bearer(authorization)

    def forget(session: Session) -> None:
        agent = agent_for_token(token, session)  # 401 for an unknown token
        session.delete(session.get(AgentToken, token_hash(token)))
        user = session.get(User, agent.id)
        user.presence = "away"
        record(session, user.username, "logout")

    await hub.db.write(forget)
    return {"ok": True}


def user_out(user: User) -> dict:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "languages": user.language_list,
        "max_chats": user.max_chats,
        "presence": user.presence,
    }


def touch(session: Session, agent_id: int, presence: str | None = None) -> User:
    user = session.get(User, agent_id)
    if presence:
        user.presence = presence
    user.last_seen_at = now()
    return user


@router.post("/presence")
async def set_presence(body: Presence, agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)) -> dict:
    """Online or away. "Online" lasts while the console's heartbeat (its WebSocket, or
    ``POST /api/agent/heartbeat``) is younger than ``PRESENCE_TTL_S``."""
    return user_out(await hub.db.write(lambda s: touch(s, agent.id, body.presence)))


@router.post("/heartbeat")
async def heartbeat(agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)) -> dict:
    """Keeps "online" alive for clients without the console's WebSocket."""
    return user_out(await hub.db.write(lambda s: touch(s, agent.id)))


@router.get("/me")
async def me(agent: User = Depends(current_agent)) -> dict:
    return user_out(agent)


@router.get("/conversations")
async def my_conversations(agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)) -> dict:
    """The chats this agent holds now (the console's tabs after a reload)."""

    def read(session: Session) -> dict:
        rows = session.scalars(
            select(Conversation)
            .where(Conversation.agent_id == agent.id, Conversation.state == "agent")
            .order_by(Conversation.claimed_at)
        ).all()
        firsts = first_player_texts(session, [c.id for c in rows])
        return {
            "items": [
                {
                    "conversation_id": c.id,
                    "language": c.language,
                    "priority": c.priority,
                    "reason": c.handoff_reason,
                    "first_message": firsts.get(c.id, ""),
                }
                for c in rows
            ]
        }

    return await hub.db.read(read)


def first_player_texts(session: Session, conversation_ids: list[str]) -> dict[str, str]:
    """Each conversation's first player message as the player saw it (a clicked button shows its title)."""
    if not conversation_ids:
        return {}
    firsts = (
        select(func.min(Message.id))
        .where(Message.conversation_id.in_(conversation_ids), Message.sender == "player")
        .group_by(Message.conversation_id)
    )
    rows = session.scalars(select(Message).where(Message.id.in_(firsts))).all()
    return {m.conversation_id: (m.meta or {}).get("button_title") or m.text for m in rows}


@router.get("/queue")
async def waiting(
    language: str | None = Query(None, max_length=8), agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)
) -> dict:
    def read(session: Session) -> tuple[list, dict]:
        statement = select(Conversation).where(Conversation.state == "queued")
        if language:
            statement = statement.where(Conversation.language == language)
        statement = statement.order_by(case((Conversation.priority == "high", 0), else_=1), Conversation.queued_at)
        rows = session.scalars(statement).all()
        return rows, first_player_texts(session, [c.id for c in rows])

    rows, firsts = await hub.db.read(read)
    items = []
    for conversation in rows:
        waited = (now() - queue.as_utc(conversation.queued_at)).total_seconds() if conversation.queued_at else 0
        items.append(
            {
                "conversation_id": conversation.id,
                "language": conversation.language,
                "priority": conversation.priority,
                "reason": conversation.handoff_reason,
                "first_message": firsts.get(conversation.id, ""),
                "waiting_s": int(waited),
                "speaks_language": conversation.language in agent.language_list,
            }
        )
    # Routing: conversations in the agent's languages first, keeping priority and waiting order.
    items.sort(key=lambda item: not item["speaks_language"])
    return {"items": items}


def held(session: Session, conversation_id: str, agent: User) -> Conversation:
    """The conversation, if this agent may act on it now: it is in a chat with them (admins: with anyone)."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise HubError(404, "unknown conversation")
    if conversation.state != "agent":
        raise HubError(409, "not in a chat with an agent", f"the conversation is {conversation.state}")
    if conversation.agent_id != agent.id and agent.role != "admin":
        raise HubError(403, "not your conversation", "claim it first")
    return conversation


@router.post("/conversations/{conversation_id}/claim")
async def claim(
    conversation_id: str = ConversationId, agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)
) -> dict:
    # Most contenders lose: tell them from a read (concurrent, no lock) and keep the serialised
    # write for conversations that are still queued. The write re-checks: one winner either way.
    state = await hub.db.read(lambda s: s.scalar(select(Conversation.state).where(Conversation.id == conversation_id)))
    if state is None:
        raise HubError(404, "unknown conversation")
    if state != "queued":
        raise HubError(409, "already taken", "another agent holds this conversation")

    def take(session: Session) -> tuple[Conversation, Message]:
        outcome = queue.claim(session, conversation_id, agent)
        if outcome == "missing":
            raise HubError(404, "unknown conversation")
        if outcome == "taken":
            raise HubError(409, "already taken", "another agent holds this conversation")
        if outcome == "busy":
            raise HubError(409, "too many chats", f"you already hold {agent.max_chats} conversations")
        conversation = session.get(Conversation, conversation_id)
        session.refresh(conversation)
        record(session, agent.username, "claim", conversation_id)
        text = hub.say("hub_agent_joined", conversation.language, agent_name=agent.display_name)
        return conversation, system_note(session, conversation, text, {"agent": agent.display_name})

    conversation, note = await hub.db.write(take)
    await tell_player(hub, conversation, note, agent=agent.display_name)
    await hub.broadcaster.to_agents({"type": "queue", "conversation_id": conversation_id})
    push_queue_positions(hub, conversation.language)
    return {"ok": True, "conversation_id": conversation_id}


def system_note(session: Session, conversation: Conversation, text: str, meta: dict) -> Message:
    note = Message(conversation_id=conversation.id, sender="system", text=text, meta=meta)
    session.add(note)
    session.flush()
    return note


async def tell_player(hub: Hub, conversation: Conversation, note: Message, **status: str) -> None:
    """Push a stored system message and the conversation's new state to the player."""
    await hub.broadcaster.to_player(conversation.id, {"type": "message", "message": message_out(note)})
    await hub.broadcaster.to_player(conversation.id, {"type": "status", "state": conversation.state, **status})


def push_queue_positions(hub: Hub, language: str) -> None:
    """Everyone still waiting in that language moved up: tell them their new place and wait, in the
    background (the claim itself does not wait for it)."""

    async def push() -> None:
        places = await hub.db.read(lambda s: queue.places(s, language, hub.settings.default_wait_s))
        for conversation_id, (place, wait) in places.items():
            await hub.broadcaster.to_player(
                conversation_id, {"type": "status", "state": "queued", "position": place, "estimated_wait_s": wait}
            )

    hub.background(push())


@router.get("/conversations/{conversation_id}")
async def conversation_detail(
    conversation_id: str = ConversationId, agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)
) -> dict:
    def read(session: Session) -> tuple[Conversation, list[Message], bool]:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise HubError(404, "unknown conversation")
        holder = conversation.state == "agent" and conversation.agent_id == agent.id
        if not (holder or agent.role == "admin" or conversation.state == "queued"):
            raise HubError(403, "not your conversation", "only the agent holding it (or an admin) reads it")
        statement = select(Message).where(Message.conversation_id == conversation_id)
        if not (holder or agent.role == "admin"):  # a preview before claiming: no internal notes
            statement = statement.where(Message.internal.is_(False))
        messages = session.scalars(statement.order_by(Message.id)).all()
        record(session, agent.username, "transcript_read", conversation_id, state=conversation.state)
        return conversation, messages, holder

    conversation, messages, holder = await hub.db.write(read)
    suggestions = []
    for suggestion in conversation.suggestions or []:
        topic_id = suggestion.get("faq_id") if isinstance(suggestion, dict) else None
        if isinstance(topic_id, str) and topic_id in hub.kb.topics:
            answer, used = hub.kb.answer(topic_id, conversation.language)
            suggestions.append(
                {
                    "faq_id": topic_id,
                    "score": suggestion.get("score"),
                    "title": hub.kb.title(topic_id, conversation.language),
                    "answer": answer,
                    "language": used,
                }
            )
    return {
        "conversation_id": conversation.id,
        "state": conversation.state,
        "language": conversation.language,
        "reason": conversation.handoff_reason,
        "priority": conversation.priority,
        "agent": conversation.agent.username if conversation.agent else None,
        "suggestions": suggestions,
        # What the player typed before masking is for the agent in the chat only.
        "messages": [message_out(m, for_agent=True, with_original=holder) for m in messages],
    }


@router.post("/conversations/{conversation_id}/messages", status_code=201)
async def agent_message(
    body: AgentMessage,
    conversation_id: str = ConversationId,
    agent: User = Depends(current_agent),
    hub: Hub = Depends(get_hub),
) -> dict:
    def add(session: Session) -> Message:
        held(session, conversation_id, agent)
        message = Message(
            conversation_id=conversation_id,
            sender="agent",
            text=body.text,
            internal=body.internal,
            agent_id=agent.id,
            meta={"agent": agent.display_name, **({"faq_id": body.faq_id} if body.faq_id in hub.kb.topics else {})},
        )
        session.add(message)
        session.flush()
        return message

    message = await hub.db.write(add)
    if not body.internal:
        await hub.broadcaster.to_player(conversation_id, {"type": "message", "message": message_out(message)})
    return message_out(message, for_agent=True)


@router.post("/conversations/{conversation_id}/transfer")
async def transfer(
    body: Transfer,
    conversation_id: str = ConversationId,
    agent: User = Depends(current_agent),
    hub: Hub = Depends(get_hub),
) -> dict:
    def move(session: Session) -> str:
        conversation = held(session, conversation_id, agent)
        if body.agent:
            target = session.scalar(select(User).where(User.username == body.agent))
            if target is None:
                raise HubError(404, "unknown agent")
            if queue.active_chats(session, target.id) >= target.max_chats:
                raise HubError(409, "too many chats", f"{target.username} is at their limit")
            conversation.agent_id = target.id
        else:
            conversation.language = body.language or conversation.language
            conversation.state = "queued"
            conversation.agent_id = None
            conversation.queued_at = now()
        record(session, agent.username, "transfer", conversation_id, to=body.agent or conversation.language)
        return conversation.state

    state = await hub.db.write(move)
    await hub.broadcaster.to_agents({"type": "queue", "conversation_id": conversation_id})
    return {"ok": True, "state": state}


@router.post("/conversations/{conversation_id}/resolve")
async def resolve(
    conversation_id: str = ConversationId, agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)
) -> dict:
    await hub.db.read(lambda s: held(s, conversation_id, agent))
    try:
        await hub.rasa.resume(conversation_id)
    except RasaUnavailable as exc:
        raise HubError(503, "the bot is not answering", "try again, or close the conversation") from exc

    def back_to_bot(session: Session) -> tuple[Conversation, Message]:
        conversation = held(session, conversation_id, agent)
        conversation.state = "bot"
        conversation.handoff_reason = None
        record(session, agent.username, "resolve", conversation_id)
        meta = {"resolved_by": agent.display_name, "rating_requested": True}
        return conversation, system_note(session, conversation, hub.say("hub_back_to_bot", conversation.language), meta)

    conversation, note = await hub.db.write(back_to_bot)
    await tell_player(hub, conversation, note)
    return {"ok": True, "state": "bot"}


@router.post("/conversations/{conversation_id}/close")
async def close(
    conversation_id: str = ConversationId, agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)
) -> dict:
    def close_it(session: Session) -> tuple[Conversation, Message]:
        conversation = held(session, conversation_id, agent)
        conversation.state = "closed"
        record(session, agent.username, "close", conversation_id)
        return conversation, system_note(session, conversation, hub.say("hub_closed", conversation.language), {})

    conversation, note = await hub.db.write(close_it)
    await tell_player(hub, conversation, note)
    return {"ok": True, "state": "closed"}


@router.get("/tickets")
async def tickets(agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)) -> dict:
    rows = await hub.db.read(lambda s: s.scalars(select(Ticket).order_by(Ticket.id.desc()).limit(200)).all())
    return {
        "items": [
            {
                "id": t.id,
                "conversation_id": t.conversation_id,
                "email": t.email,
                "text": t.text,
                "status": t.status,
                "created_at": t.created_at.isoformat(),
            }
            for t in rows
        ]
    }


def holds(session: Session, conversation_id: str, agent_id: int) -> bool:
    conversation = session.get(Conversation, conversation_id)
    return conversation is not None and conversation.state == "agent" and conversation.agent_id == agent_id


@router.websocket("/ws")
async def agent_socket(websocket: WebSocket) -> None:
    """Live queue items, player messages and typing. The first frame authenticates
    (``{"type": "auth", "token": "<agent token>"}``); while connected, the agent's presence stays fresh."""
    hub: Hub = websocket.app.state.hub
    agent: User | None = None

    async def check(token: str) -> bool:
        nonlocal agent
        try:
            agent = await hub.db.read(lambda s: agent_for_token(token, s))
        except HubError:
            return False
        return True

    if not await authenticated_socket(websocket, check):
        return

    async def keep_fresh() -> None:
        while True:
            await hub.db.write(lambda s: touch(s, agent.id))
            await asyncio.sleep(HEARTBEAT_S)

    heartbeat_task = asyncio.get_running_loop().create_task(keep_fresh())
    hub.broadcaster.add_agent(agent.id, websocket)
    try:
        async for event in frames(websocket):
            target = event.get("conversation_id")
            if isinstance(target, str) and event.get("type") == "typing":
                if await hub.db.read(lambda s, t=target: holds(s, t, agent.id)):
                    await hub.broadcaster.to_player(target, {"type": "typing", "from": "agent"})
    except (WebSocketDisconnect, ValueError):
        pass
    finally:
        heartbeat_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat_task
        hub.broadcaster.remove_agent(agent.id, websocket)
