"""The cross-lingual FAQ index: dense (FAISS) plus lexical scores, fused per topic."""
