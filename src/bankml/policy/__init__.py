"""Policy assistant: access-controlled retrieval, grounded cited answers, guards, review.

Staff ask questions about internal policies and get short answers quoting the documents they
may read, each sentence cited. The access filter sits inside the search query; every answer
passes an output check; instructions planted in documents or questions are flagged, not
followed; unsure answers go to a human review queue. See docs/policy.md.
"""

from bankml.policy.answer import ABSTAIN_MESSAGE, Citation, ExtractiveAnswerer, check_grounding
from bankml.policy.documents import (
    AccessMetadata,
    Chunk,
    PolicyDocument,
    chunk_document,
    load_document,
)
from bankml.policy.generator import OpenAICompatibleGenerator
from bankml.policy.guards import InjectionGuard, InjectionSignal
from bankml.policy.index import ChunkIndex, MemoryIndex, TantivyIndex
from bankml.policy.review import Correction, ReviewItem, ReviewQueue
from bankml.policy.service import IngestReport, PolicyAnswer, PolicyAssistant, SearchResult

__all__ = [
    "ABSTAIN_MESSAGE",
    "AccessMetadata",
    "Chunk",
    "ChunkIndex",
    "Citation",
    "Correction",
    "ExtractiveAnswerer",
    "IngestReport",
    "InjectionGuard",
    "InjectionSignal",
    "MemoryIndex",
    "OpenAICompatibleGenerator",
    "PolicyAnswer",
    "PolicyAssistant",
    "PolicyDocument",
    "ReviewItem",
    "ReviewQueue",
    "SearchResult",
    "TantivyIndex",
    "check_grounding",
    "chunk_document",
    "load_document",
]
