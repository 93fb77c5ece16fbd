"""The knowledge base: FAQ topics, their answers and question variants in five languages."""

from bot.kb.model import KnowledgeBase, Topic, load_knowledge_base

__all__ = ["KnowledgeBase", "Topic", "load_knowledge_base"]
