"""Reading policy files (Markdown, HTML, text, PDF), their access metadata, and chunking.

Access metadata comes, in rising precedence, from ingest options, Markdown front matter and a
sidecar ``FILE.meta.toml``. A document with no ``allowed_groups`` anywhere is readable by
nobody: we fail closed and the caller warns, because guessing an audience for a policy is
exactly the leak this module exists to prevent.

Chunks follow the document's headings; each keeps its heading path, and its id is the
document id plus a slug of the section, so a citation survives re-ingesting an unchanged
section even when other sections move.
"""

from __future__ import annotations

import hashlib
import html.parser
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bankml.core.errors import DataFileError, InputError

__all__ = [
    "SUPPORTED_SUFFIXES",
    "AccessMetadata",
    "Chunk",
    "PolicyDocument",
    "chunk_document",
    "discover_files",
    "load_document",
    "parse_markdown",
]

SUPPORTED_SUFFIXES = (".md", ".markdown", ".html", ".htm", ".txt", ".pdf")
# A printed page holds roughly 3,000 characters; throughput for non-PDF sources is counted in
# these nominal pages so that "pages/s" means the same for every format.
CHARS_PER_PAGE = 3_000
MAX_CHUNK_CHARS = 1_200
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FRONT_MATTER_RE = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.DOTALL)
_SLUG_RE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class AccessMetadata:
    """Who may read a document and who answers for it; any field may be unknown (None)."""

    doc_id: str | None = None
    title: str | None = None
    owner: str | None = None
    classification: str | None = None
    allowed_groups: frozenset[str] | None = None
    effective_date: str | None = None

    def over(self, base: AccessMetadata) -> AccessMetadata:
        """These values where set, ``base`` elsewhere."""
        return AccessMetadata(
            **{
                name: getattr(self, name)
                if getattr(self, name) is not None
                else getattr(base, name)
                for name in (
                    "doc_id",
                    "title",
                    "owner",
                    "classification",
                    "allowed_groups",
                    "effective_date",
                )
            }
        )

    @classmethod
    def from_mapping(cls, data: dict[str, Any], where: str) -> AccessMetadata:
        """Validate front matter or a sidecar table into metadata; InputError names the file."""
        groups_raw = data.get("allowed_groups")
        groups: frozenset[str] | None = None
        if groups_raw is not None:
            if isinstance(groups_raw, str):
                groups_raw = [g for g in groups_raw.split(",") if g.strip()]
            if not isinstance(groups_raw, list) or not all(isinstance(g, str) for g in groups_raw):
                raise InputError(f"{where}: allowed_groups must be a list of group names")
            groups = frozenset(g.strip().lower() for g in groups_raw if g.strip())
        doc_id = data.get("id")
        if doc_id is not None and (not isinstance(doc_id, str) or not _ID_RE.match(doc_id)):
            raise InputError(f"{where}: id {doc_id!r} must be letters, digits, '.', '_' or '-'")

        def text(key: str) -> str | None:
            value = data.get(key)
            return None if value is None else str(value).strip()

        return cls(
            doc_id,
            text("title"),
            text("owner"),
            text("classification"),
            groups,
            text("effective_date"),
        )


@dataclass(frozen=True)
class PolicyDocument:
    """One policy as ingested: access metadata, the body text, and a hash of both."""

    doc_id: str
    title: str
    owner: str
    classification: str
    allowed_groups: frozenset[str]
    effective_date: str | None
    source: str
    format: str
    body: str
    pages: int
    content_hash: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha256()
        for part in (
            self.doc_id,
            self.title,
            self.owner,
            self.classification,
            ",".join(sorted(self.allowed_groups)),
            self.effective_date or "",
            self.body,
        ):
            digest.update(part.encode("utf-8") + b"\x00")
        object.__setattr__(self, "content_hash", digest.hexdigest())


@dataclass(frozen=True)
class Chunk:
    """A section (or part of a long one) of a document: the unit we index, retrieve and cite."""

    chunk_id: str
    doc_id: str
    ordinal: int
    section: str  # heading path, "Title > 4. Enhanced due diligence"
    text: str

    @property
    def content_hash(self) -> str:
        """SHA-256 of the section path and text."""
        return hashlib.sha256(f"{self.section}\x00{self.text}".encode()).hexdigest()


def discover_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Expand files and folders into policy files (sorted), plus one problem line per bad path."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
            )
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                files.append(path)
            else:
                problems.append(
                    f"{path}: unsupported file type {path.suffix or '(none)'}; "
                    f"use one of {', '.join(SUPPORTED_SUFFIXES)}"
                )
        else:
            problems.append(f"{path}: no such file or folder")
    return files, problems


def parse_markdown(text: str, where: str) -> tuple[AccessMetadata, str]:
    """Split YAML front matter from a Markdown body."""
    match = _FRONT_MATTER_RE.match(text)
    if not match:
        return AccessMetadata(), text
    try:
        data = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f" (line {line + 2})" if isinstance(line, int) else ""
        raise DataFileError(f"{where}: front matter is not valid YAML{at}") from None
    except ValueError as exc:  # e.g. an impossible date such as 2026-13-40
        raise DataFileError(f"{where}: front matter has an invalid value ({exc})") from None
    if not isinstance(data, dict):
        raise DataFileError(f"{where}: front matter must be a YAML mapping")
    return AccessMetadata.from_mapping(data, where), text[match.end() :]


class _HTMLToMarkdown(html.parser.HTMLParser):
    """Just enough HTML: headings become Markdown headings, blocks become paragraphs."""

    _BLOCKS = frozenset({"p", "div", "li", "tr", "br", "section", "article", "table", "ul", "ol"})
    _SKIP = frozenset({"script", "style", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.title: str | None = None
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in self._BLOCKS:
            self.out.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = (self.title or "") + data.strip()
        elif not self._skip:
            self.out.append(re.sub(r"\s+", " ", data))


def _read_pdf(path: Path) -> tuple[str, int]:
    # pypdf costs ~80 ms to import; only PDF ingests pay it.
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise DataFileError(f"{path}: not a readable PDF ({type(exc).__name__})") from None
    return "\n\n".join(pages), len(pages)


def _read_sidecar(path: Path) -> AccessMetadata:
    sidecar = path.with_name(path.name + ".meta.toml")
    if not sidecar.exists():
        return AccessMetadata()
    try:
        data = tomllib.loads(sidecar.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{sidecar}: not valid TOML ({exc})".splitlines()[0]) from None
    return AccessMetadata.from_mapping(data, str(sidecar))


def _default_id(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem).strip("-") or "document"


def load_document(path: Path, defaults: AccessMetadata | None = None) -> PolicyDocument:
    """Read one file into a PolicyDocument; DataFileError (one line) when it cannot be read.

    ``allowed_groups`` stays empty when no source names it: the document is then readable by
    nobody until someone says who may read it.
    """
    suffix = path.suffix.lower()
    fmt = {".markdown": "md", ".htm": "html"}.get(suffix, suffix.lstrip("."))
    meta = AccessMetadata()
    title_hint: str | None = None
    pages = 0
    try:
        if fmt == "pdf":
            body, pages = _read_pdf(path)
        else:
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise DataFileError(f"{path}: not UTF-8 text") from None
            if "\x00" in text:
                raise DataFileError(f"{path}: looks binary, not {fmt} text")
            if fmt == "md":
                meta, body = parse_markdown(text, str(path))
            elif fmt == "html":
                parser = _HTMLToMarkdown()
                parser.feed(text)
                body, title_hint = "".join(parser.out), parser.title
            else:
                body = text
    except PermissionError:
        raise DataFileError(f"{path}: permission denied") from None
    except IsADirectoryError:
        raise DataFileError(f"{path}: is a folder") from None
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not body.strip():
        raise DataFileError(f"{path}: no text found")
    meta = _read_sidecar(path).over(meta).over(defaults or AccessMetadata())
    title = meta.title or title_hint or _first_heading(body) or path.stem
    return PolicyDocument(
        doc_id=meta.doc_id or _default_id(path),
        title=title,
        owner=meta.owner or "unassigned",
        classification=meta.classification or "internal",
        allowed_groups=meta.allowed_groups or frozenset(),
        effective_date=meta.effective_date,
        source=str(path),
        format=fmt,
        body=body,
        pages=pages or max(1, -(-len(body) // CHARS_PER_PAGE)),
    )


def _first_heading(body: str) -> str | None:
    for line in body.splitlines():
        m = _HEADING_RE.match(line)
        if m:
            return m.group(2)
    return None


def _slug(text: str) -> str:
    return _SLUG_RE.sub("-", text.lower()).strip("-")[:60] or "section"


def _split_long(text: str, limit: int) -> list[str]:
    """Split on paragraph boundaries, then sentences, so no part exceeds ``limit`` by much."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    pieces = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    units: list[str] = []
    for piece in pieces:
        if len(piece) > limit:
            units.extend(s for s in re.split(r"(?<=[.!?])\s+", piece) if s.strip())
        else:
            units.append(piece)
    for unit in units:
        if current and len(current) + len(unit) + 2 > limit:
            parts.append(current)
            current = unit
        else:
            current = f"{current}\n\n{unit}" if current else unit
    if current:
        parts.append(current)
    return parts


def chunk_document(doc: PolicyDocument, max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """Split a document along its headings; long sections split further on paragraphs.

    The chunk id is ``DOC#section-slug`` (``-2``, ``-3`` for parts of a long section), so it
    depends only on the section's own heading, not on its position.
    """
    sections: list[tuple[list[str], list[str]]] = []  # (heading path, lines)
    path: list[tuple[int, str]] = []
    lines: list[str] = []

    def flush() -> None:
        if any(line.strip() for line in lines):
            sections.append(([h for _, h in path], list(lines)))
        lines.clear()

    for line in doc.body.splitlines():
        m = _HEADING_RE.match(line)
        if m:
            flush()
            level = len(m.group(1))
            path = [(lvl, h) for lvl, h in path if lvl < level] + [(level, m.group(2).strip())]
        else:
            lines.append(line)
    flush()

    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for headings, body_lines in sections:
        # The document title is usually the level-1 heading; it is shown separately.
        trail = [h for h in headings if h != doc.title] or headings
        section = " > ".join(trail) if trail else "Preamble"
        base = _slug(trail[-1]) if trail else "preamble"
        for part in _split_long("\n".join(body_lines).strip(), max_chars):
            n = seen.get(base, 0) + 1
            seen[base] = n
            slug = base if n == 1 else f"{base}-{n}"
            chunks.append(
                Chunk(f"{doc.doc_id}#{slug}", doc.doc_id, len(chunks), section, part.strip())
            )
    return chunks


def with_groups(doc: PolicyDocument, groups: frozenset[str]) -> PolicyDocument:
    """A copy of ``doc`` readable by ``groups`` (used by tests and re-permissioning)."""
    return replace(doc, allowed_groups=groups)
