"""What the injection detector looks at: cue features, sentence windows and the text encoder.

A text becomes one feature row: its MiniLM sentence embedding (what it is about and how it is
phrased, which transfers across wordings) followed by a handful of multilingual cue counts
(English, German, French, Spanish): overriding earlier instructions, taking on a new role,
addressing the AI, asking for the system prompt or secrets, sending data out, forcing an
output, escaping the rules, and fake system markup. Cues are counted, not decisive: the
fitted weights decide what they are worth.

Document passages are scored by their most suspicious sentence window (one sentence, or two
neighbouring ones), so one planted sentence in a long benign passage is not diluted. All work
is bounded: texts are cut at :data:`MAX_CHARS` and a passage yields at most
:data:`MAX_WINDOWS` windows.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Callable, Sequence

import numpy as np

from rag.text.sentences import split_sentences

MAX_CHARS = 2000  # of a question or passage analysed (MiniLM reads ~256 tokens anyway)
MAX_WINDOWS = 48  # sentence windows considered per passage
MIN_WINDOW_CHARS = 12  # shorter windows ("Step 1:", a heading) carry no instruction
NGRAM_DIM = 2048  # hashed character 3..5-gram buckets
NGRAM_SIZES = (3, 4, 5)

# (n, 384) unit vectors for n texts.
Encoder = Callable[[list[str]], np.ndarray]

_AI = (
    r"(?:ai|a\.i\.|assistant|chat ?bot|bot|llm|(?:large )?language model|model|gpt|chatgpt|"
    r"ki|ki-modell|ki-assistent|sprachmodell|assistent(?:in)?|ia|assistante?|modèle|asistente|modelo)"
)
_EARLIER = (
    r"(?:previous|prior|above|earlier|preceding|former|original|initial|all|any|everything|"
    r"your|the|these|those|vorherige\w*|bisherige\w*|obige\w*|alle\w*|deine\w*|ihre\w*|"
    r"précédente?s?|toutes?|tous|tes|vos|anteriores?|todas?|todos?|tus)"
)
_RULES = (
    r"(?:instructions?|directions?|directives?|prompts?|rules|guidelines|guidance|context|tasks?|"
    r"commands?|orders|programming|restrictions|everything|anweisung\w*|befehl\w*|aufgabe\w*|"
    r"regeln|richtlinien|informationen|vorgaben|alles|consignes?|règles|tout|instrucciones|"
    r"indicaciones|reglas|todo)"
)
_REVEAL = (
    r"(?:reveal|print|show|output|display|repeat|dump|leak|tell me|give me|share|spell out|"
    r"zeig\w*|gib\w*|verrat\w*|nenn\w*|wiederhol\w*|révèle\w*|affiche\w*|montre\w*|"
    r"revela\w*|muestra\w*|imprime\w*|dime)"
)
_SAY = (
    r"(?:say|print|write|output|respond|answer|reply|return|type|sag\w*|schreib\w*|antworte\w*|"
    r"gib\w* aus|dis|écri\w*|répond\w*|di|escrib\w*|respond\w*|contesta\w*)"
)

# name -> patterns (case-insensitive). Each feature counts matches (capped) over its patterns.
CUES: dict[str, tuple[str, ...]] = {
    "override": (
        rf"\b(?:ignore|ignoring|disregard|forget|skip|override|overwrite|bypass|neglect|drop|"
        rf"set aside|vergiss|vergessen sie|ignorier\w*|missacht\w*|übergeh\w*|oublie\w*|"
        rf"ignore[zr]?|olvida\w*|ignora\w*|omite)\b[^.!?\n]{{0,40}}?\b{_EARLIER}\b"
        rf"[^.!?\n]{{0,30}}?\b{_RULES}\b",
        r"\b(?:forget|vergiss|oublie|olvida)\s+(?:everything|all|alles|tout|todo)\b",
        r"\b(?:above|previous|prior|earlier|bisherige\w*|vorherige\w*|obige\w*|précédent\w*|"
        r"anterior\w*)\b[^.!?\n]{0,60}\b(?:irrelevant|void|revoked|cancell?ed|outdated|"
        r"obsolete|unwichtig|ungültig|hinfällig|annulée?s?|nulas?|no importa)\b",
    ),
    "new_orders": (
        r"\b(?:new|real|actual|true|updated|neue\w*|eigentliche\w*|nouvelles?|vraies?|nuevas?|"
        r"verdaderas?)\s+(?:instructions?|tasks?|rules|orders|role|mission|anweisung\w*|"
        r"aufgabe\w*|regeln|rolle|tâche|consignes?|instrucciones|tarea|reglas)\b",
        r"\b(?:from now on|henceforth|ab jetzt|ab sofort|von nun an|désormais|"
        r"à partir de maintenant|a partir de ahora|de ahora en adelante)\b",
        r"\b(?:instead|stattdessen|à la place|en su lugar|en lugar de eso)\b",
        r"\b(?:now|jetzt|nun|maintenant|ahora)\s+(?:focus|concentrate|konzentrier\w*)\b",
    ),
    "role": (
        r"\b(?:you are now|you're now|you are no longer|from now on you are|act as|acting as|"
        r"pretend|imagine (?:you|that you)|role-?play|play the role|du bist (?:jetzt|nun|ab "
        r"jetzt|ein|eine)|stell dir vor|tu so,? als|agiere als|spiel\w* die rolle|tu es "
        r"(?:maintenant|désormais|un|une)|fais comme si|agis comme|imagine que tu|ahora eres|"
        r"eres un|actúa como|imagina que eres|finge)\b",
    ),
    "address_ai": (
        rf"\b(?:note|message|instruction|instructions|hinweis|nachricht|anweisung|achtung|"
        rf"remarque|nota|instrucción|mensaje)s?\s+(?:to|for|an|für|pour|para|à)\s+(?:the\s+|"
        rf"any\s+|all\s+|every\s+|die\s+|den\s+|das\s+|l'|le\s+|la\s+|el\s+|los\s+|cualquier\s+)?"
        rf"{_AI}s?\b",
        rf"\b(?:if|when|whenever)\s+(?:you\s+are|you're|an?|the|any)\s+(?:an?\s+)?{_AI}s?\b",
        rf"(?:^|[.!?\]>\-]\s*|\b(?:hey|hi|dear|attention|achtung)\s+){_AI}s?\s*[,:]",
        rf"\b(?:to|for|an|für|pour|para)\s+(?:the|any|all|every|jede[ns]?|tout|cualquier)\s+"
        rf"{_AI}s?\b[^.!?\n]{{0,50}}:",
        r"\b(?:system prompt|system message|system-prompt|systemprompt|prompt du système|"
        r"prompt del sistema|pre-?prompt)\b",
    ),
    "reveal": (
        rf"\b{_REVEAL}\b[^.!?\n]{{0,40}}\b(?:system ?prompt|system message|prompt|instructions|"
        rf"initial|hidden|secret|password|passwort|api ?keys?|credentials|token|confidential|"
        rf"conversation history|chat history|anweisungen|mot de passe|contraseña)\b",
    ),
    "exfiltrate": (
        r"!\[[^\]]{0,80}\]\(\s*https?://",
        r"https?://\S*(?:[{<]|\$\{|%7b)",
        r"\b(?:send|forward|post|upload|email|e-mail|transmit|schick\w*|sende\w*|envoie\w*|"
        r"envía\w*)\b[^.!?\n]{0,60}\b(?:to|an|à|a)\s+(?:https?://|\S+@\S+\.\w+)",
        r"\b(?:base64|exfiltrat\w*|environment variables|~/\.ssh)\b",
    ),
    "force_output": (
        rf"\b{_SAY}\b[^.!?\n]{{0,25}}?[\"'“„«‘]",
        r"\b(?:just|only|nur|seulement|uniquement|solo|solamente)\s+(?:say|print|write|answer|"
        r"respond|reply|output|sag\w*|schreib\w*|antworte\w*|dis|écri\w*|répond\w*|di|"
        r"escrib\w*|respond\w*)\b",
        r"\b(?:tell|inform)\s+(?:the\s+)?(?:user|users|reader|readers|customer|whoever|everyone|"
        r"them)\b",
        r"\b(?:sag\w*|erzähl\w*)\s+(?:dem|den)\s+(?:nutzer\w*|benutzer\w*|leser\w*)\b",
        r"\b(?:dis|dites)\s+à\s+l'utilisat\w*|\b(?:dile|di)\s+al\s+usuario\b",
        r"^\s*stop\b",
    ),
    "escape_rules": (
        r"\b(?:without|no|ohne|keine|sans|aucune|sin|ningún)\s+(?:any\s+)?(?:restrictions?|"
        r"rules|filters?|censorship|limits|content polic\w*|guidelines|safety|einschränkung\w*|"
        r"regeln|zensur|grenzen|règles|censure|restricciones|reglas|censura)\b",
        r"\b(?:unrestricted|uncensored|jailbr[eo]\w*|developer mode|DAN|do anything now)\b",
    ),
    "fake_markup": (
        r"(?:begin|end|start)\s+(?:of\s+)?system\b|\[/?(?:system|inst|assistant)\]|<\|im_\w+\|>|"
        r"#{2,}\s*(?:instruction|system|new)|<!--|\bsystem\s*(?:override|:)",
    ),
}
_CUE_RES = {
    name: [re.compile(p, re.IGNORECASE | re.MULTILINE) for p in pats] for name, pats in CUES.items()
}
CUE_NAMES = tuple(CUES)
_CUE_CAP = 3  # counts beyond this add nothing but leverage


def cue_vector(text: str) -> np.ndarray:
    """Count each cue family in ``text`` (capped) plus the number of families present."""
    counts = [
        min(_CUE_CAP, sum(len(r.findall(text)) for r in _CUE_RES[name])) for name in CUE_NAMES
    ]
    present = sum(1 for c in counts if c)
    return np.array([*counts, present], dtype=np.float64)


def cue_matrix(texts: Sequence[str]) -> np.ndarray:
    """Cue rows for ``texts``, each cut at :data:`MAX_CHARS`."""
    return np.array([cue_vector(t[:MAX_CHARS]) for t in texts], dtype=np.float64).reshape(
        len(texts), len(CUE_NAMES) + 1
    )


# The families that mean an instruction aimed at an AI in any collection: overriding its
# instructions, addressing it, fake system markup. "Act as", "print ... prompt", "without
# restrictions" or a URL with braces are everyday words in manuals, filings and handbooks:
# they count only next to a second family. Anything else is not scored at all: no encoder
# time, no false alarm.
STRONG_CUES = ("override", "address_ai", "fake_markup")
GATE_CUES = (
    "override",
    "role",
    "address_ai",
    "reveal",
    "exfiltrate",
    "escape_rules",
    "fake_markup",
)
_GATE_RE = re.compile(
    "|".join(f"(?:{p})" for name in GATE_CUES for p in CUES[name]), re.IGNORECASE | re.MULTILINE
)


def gate_cued(text: str) -> bool:
    """Whether ``text`` (cut at :data:`MAX_CHARS`) is worth scoring: see :func:`window_cued`.

    One combined regex pass first: most passages carry no cue at all and stop there.
    """
    text = text[:MAX_CHARS]
    return _GATE_RE.search(text) is not None and window_cued(cue_vector(text))


def window_cued(counts: np.ndarray) -> bool:
    """Whether a window's cue row (:func:`cue_vector`) earns it a full score."""
    strong = sum(counts[CUE_NAMES.index(name)] > 0 for name in STRONG_CUES)
    others = sum(counts[CUE_NAMES.index(name)] > 0 for name in GATE_CUES)
    return bool(strong or others >= 2)


def ngram_vector(text: str) -> np.ndarray:
    """Hashed character 3..5-gram counts of ``text`` (log-scaled, unit length).

    Spelling-level evidence the English-only embedding lacks (German, French, odd casing).
    crc32 hashes are stable across processes, unlike ``hash``.
    """
    padded = " " + " ".join(text[:MAX_CHARS].lower().split()) + " "
    counts = np.zeros(NGRAM_DIM, dtype=np.float64)
    encoded = padded.encode("utf-8", "replace")
    for n in NGRAM_SIZES:
        for i in range(len(encoded) - n + 1):
            counts[zlib.crc32(encoded[i : i + n]) % NGRAM_DIM] += 1.0
    counts = np.log1p(counts)
    norm = float(np.linalg.norm(counts))
    return counts / norm if norm else counts


def ngram_matrix(texts: Sequence[str]) -> np.ndarray:
    """N-gram rows for ``texts``."""
    return np.array([ngram_vector(t) for t in texts], dtype=np.float64).reshape(
        len(texts), NGRAM_DIM
    )


def passage_windows(text: str) -> list[str]:
    """Return the passage's sentence windows: each sentence and each neighbouring pair."""
    sentences = [s for s in split_sentences(text[:MAX_CHARS]) if s.strip()]
    if not sentences:
        return [text[:MAX_CHARS]] if text.strip() else []
    windows = [s for s in sentences if len(s) >= MIN_WINDOW_CHARS]
    windows += [f"{a} {b}" for a, b in zip(sentences, sentences[1:], strict=False)]
    windows = list(dict.fromkeys(windows)) or [" ".join(sentences)]
    return windows[:MAX_WINDOWS]


_ENCODER_LOCK = threading.Lock()
_ENCODER: list[Encoder] = []


def default_encoder() -> Encoder:
    """The in-process MiniLM encoder, built once per process (thread-safe)."""
    with _ENCODER_LOCK:
        if not _ENCODER:
            from rag.models.embeddings import MiniLMEmbeddings

            embedder = MiniLMEmbeddings(batch_size=32)
            _ENCODER.append(lambda texts: embedder.encode([t[:MAX_CHARS] for t in texts]))
        return _ENCODER[0]


def feature_matrix(texts: Sequence[str], encode: Encoder | None = None) -> np.ndarray:
    """Feature rows for ``texts``: the embedding, the cue counts, the hashed n-grams."""
    texts = [t[:MAX_CHARS] for t in texts]
    embeddings = np.asarray((encode or default_encoder())(texts), dtype=np.float64)
    return np.hstack([embeddings.reshape(len(texts), -1), cue_matrix(texts), ngram_matrix(texts)])
