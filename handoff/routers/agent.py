"""The agent API: log in, see the queue, claim, answer, transfer, hand back to the bot, close."""

from __future__ import annotations

from datetime import timedelta

import anyio
from fastapi import APIRouter, Depends, Header, Query, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot.language.names import SUPPORTED
from handoff import queue
from handoff.deps import Hub, agent_for_token, bearer, current_agent, get_hub
from handoff.errors import HubError
from handoff.models import AgentToken, Conversation, Message, Ticket, User, now
from handoff.rasa_client import RasaUnavailable
from handoff.security import new_token, token_hash, verify_password
from handoff.serialize import message_out

router = APIRouter(prefix="/api/agent", tags=["agent"])


class Login(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class AgentMessage(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    internal: bool = False
    faq_id: str | None = Field(None, max_length=64)  # the suggestion the agent inserted, if any


class Transfer(BaseModel):
    agent: str | None = None  # username; or
    language: str | None = None  # back to that language's queue


class Presence(BaseModel):
    presence: str = Field(pattern="^(online|away)$")


@router.post("/login")
async def login(body: Login, hub: Hub = Depends(get_hub)) -> dict:
    user = await hub.db.read(lambda s: s.scalar(select(User).where(User.username == body.username)))
    # argon2 costs ~0.5 s of CPU: never on the event loop.
    if user is None or not await anyio.to_thread.run_sync(verify_password, body.password, user.password_hash):
        raise HubError(401, "wrong username or password")
    token = new_token()
    expires = now() + timedelta(hours=hub.settings.agent_token_hours)
    await hub.db.write(lambda s: s.add(AgentToken(token_hash=token_hash(token), user_id=user.id, expires_at=expires)))
    return {"token": token, "expires_at": expires.isoformat(), "user": user_out(user)}


@router.post("/logout")
async def logout(authorization: str | None = Header(None), hub: Hub = Depends(get_hub)) -> dict:
    token = bearer(authorization)

    def forget(session: Session) -> None:
        agent_for_token(token, session)  # 401 for an unknown token
        session.delete(session.get(AgentToken, token_hash(token)))

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


@router.post("/presence")
async def set_presence(body: Presence, agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)) -> dict:
    def update_presence(session: Session) -> User:
        user = session.get(User, agent.id)
        user.presence = body.presence
        return user

    return user_out(await hub.db.write(update_presence))


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
    def read(session: Session) -> list:
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


def owned(session: Session, conversation_id: str, agent: User) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise HubError(404, "unknown conversation")
    if conversation.agent_id != agent.id and agent.role != "admin":
        raise HubError(403, "not your conversation", "claim it first")
    return conversation


@router.post("/conversations/{conversation_id}/claim")
async def claim(conversation_id: str, agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)) -> dict:
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


def readable(conversation: Conversation, agent: User) -> None:
    if conversation.state == "agent" and conversation.agent_id != agent.id and agent.role != "admin":
        raise HubError(403, "not your conversation")


@router.get("/conversations/{conversation_id}")
async def conversation_detail(
    conversation_id: str, agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)
) -> dict:
    def read(session: Session) -> tuple[Conversation, list[Message]]:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise HubError(404, "unknown conversation")
        readable(conversation, agent)
        messages = session.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
        ).all()
        return conversation, messages

    conversation, messages = await hub.db.read(read)
    suggestions = []
    for suggestion in conversation.suggestions or []:
        topic_id = suggestion.get("faq_id")
        if topic_id in hub.kb.topics:
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
        "messages": [message_out(m, for_agent=True) for m in messages],
    }


@router.post("/conversations/{conversation_id}/messages", status_code=201)
async def agent_message(
    conversation_id: str, body: AgentMessage, agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)
) -> dict:
    def add(session: Session) -> Message:
        conversation = owned(session, conversation_id, agent)
        if conversation.state != "agent":
            raise HubError(409, "not in a chat with an agent", f"the conversation is {conversation.state}")
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
    conversation_id: str, body: Transfer, agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)
) -> dict:
    def move(session: Session) -> str:
        conversation = owned(session, conversation_id, agent)
        if body.agent:
            target = session.scalar(select(User).where(User.username == body.agent))
            if target is None:
                raise HubError(404, "unknown agent")
            if queue.active_chats(session, target.id) >= target.max_chats:
                raise HubError(409, "too many chats", f"{target.username} is at their limit")
            conversation.agent_id = target.id
        else:
            language = body.language or conversation.language
            if language not in SUPPORTED:
                raise HubError(422, "unknown language")
            conversation.language = language
            conversation.state = "queued"
            conversation.agent_id = None
            conversation.queued_at = now()
        return conversation.state

    state = await hub.db.write(move)
    await hub.broadcaster.to_agents({"type": "queue", "conversation_id": conversation_id})
    return {"ok": True, "state": state}


@router.post("/conversations/{conversation_id}/resolve")
async def resolve(conversation_id: str, agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)) -> dict:
    await hub.db.read(lambda s: owned(s, conversation_id, agent))
    try:
        await hub.rasa.resume(conversation_id)
    except RasaUnavailable as exc:
        raise HubError(503, "the bot is not answering", "try again, or close the conversation") from exc

    def back_to_bot(session: Session) -> tuple[Conversation, Message]:
        conversation = owned(session, conversation_id, agent)
        conversation.state = "bot"
        conversation.handoff_reason = None
        meta = {"resolved_by": agent.display_name, "rating_requested": True}
        return conversation, system_note(session, conversation, hub.say("hub_back_to_bot", conversation.language), meta)

    conversation, note = await hub.db.write(back_to_bot)
    await tell_player(hub, conversation, note)
    return {"ok": True, "state": "bot"}


@router.post("/conversations/{conversation_id}/close")
async def close(conversation_id: str, agent: User = Depends(current_agent), hub: Hub = Depends(get_hub)) -> dict:
    def close_it(session: Session) -> tuple[Conversation, Message]:
        conversation = owned(session, conversation_id, agent)
        conversation.state = "closed"
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


@router.websocket("/ws")
async def agent_socket(websocket: WebSocket, token: str = Query("")) -> None:
    hub: Hub = websocket.app.state.hub
    try:
        agent = await hub.db.read(lambda s: agent_for_token(token, s))
    except HubError:
        await websocket.close(code=4401)
        return
    await websocket.accept()
    hub.broadcaster.add_agent(agent.id, websocket)
    try:
        while True:
            event = await websocket.receive_json()
            target = event.get("conversation_id") if isinstance(event, dict) else None
            if isinstance(target, str) and event.get("type") == "typing":
                await hub.broadcaster.to_player(event["conversation_id"], {"type": "typing", "from": "agent"})
    except (WebSocketDisconnect, ValueError):
        pass
    finally:
        hub.broadcaster.remove_agent(agent.id, websocket)
