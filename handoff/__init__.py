"""The handoff hub: owns every conversation's state (bot, queued, agent, closed, ticket).

Players and agents talk only to the hub. While the bot owns a conversation, the hub forwards the
player's messages to Rasa; otherwise they go to the queue or the agent and the bot stays silent.
"""
