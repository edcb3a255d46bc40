"""Deterministic, realistic Sequence Agent output computed from the request alone.

Every choice (product, persona, confidence, wording, latency, "no match") comes from a
hash of the canonical payload and the seed, so the same request always gets the same
answer, in any process. The one promise tests lean on: step ``i``'s body holds, verbatim,
``runtimeContext["all"]`` then ``runtimeContext[str(i)]`` joined by a blank line, and the
merged ``runtimeInstructions`` the same way; no other section and no other step does. In
``html`` output that text is HTML-escaped (``&``, ``<``, ``>``), as any HTML writer would.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from .._constants import CONFIDENCE_LEVELS
from ._catalog import (
    CLOSINGS,
    CTAS,
    OPENINGS,
    PERSONAS,
    PLAYBOOKS,
    PRODUCTS,
    PS_LINES,
    SENDER,
    SUBJECTS,
    Persona,
)

__all__ = [
    "Format",
    "Hash",
    "canonical",
    "library_matches",
    "merged_step_text",
    "oid",
    "persona_for",
    "sequence_data",
    "text",
]

_T = TypeVar("_T")
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Fields that steer delivery, not content: the async callback (or the async endpoint's
# ``agentType``) must not change the answer.
_NOT_CONTENT = frozenset({"callbackUrl", "agentType"})


def canonical(payload: Mapping[str, Any]) -> str:
    """Return the payload as JSON with sorted keys: equal payloads, equal strings."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Hash:
    """Named, independent pseudo-random draws from one payload (stable across processes)."""

    __slots__ = ("_base", "_seed")

    def __init__(self, payload: Mapping[str, Any], seed: int) -> None:
        content = {k: v for k, v in payload.items() if k not in _NOT_CONTENT}
        self._seed = seed
        self._base = hashlib.blake2b(f"{seed}|{canonical(content)}".encode()).digest()

    def sub(self, identity: Mapping[str, Any]) -> Hash:
        """Return the hash of ``identity`` under the same seed.

        Facts about a company or a person (industry, head count, location) hash from
        who they are, not from the whole request, so every agent tells the same story.
        """
        return Hash(identity, self._seed)

    def unit(self, salt: str) -> float:
        """Return a number in [0, 1) that depends only on the payload, seed and ``salt``."""
        digest = hashlib.blake2b(self._base + salt.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2.0**64

    def index(self, n: int, salt: str) -> int:
        """Return an index in ``range(n)``."""
        return int(self.unit(salt) * n)

    def pick(self, options: Sequence[_T], salt: str) -> _T:
        """Return one of ``options``."""
        return options[self.index(len(options), salt)]


def text(payload: Mapping[str, Any], key: str) -> str:
    """Return ``payload[key]`` as stripped text, ``""`` when absent or null."""
    value = payload.get(key)
    return "" if value is None else str(value).strip()


def merged_step_text(spec: object, step: int) -> str:
    """Return ``spec["all"]`` then ``spec[str(step)]``, joined by a blank line, as Octave merges."""
    if not isinstance(spec, Mapping):
        return ""
    parts = (spec.get("all"), spec.get(str(step)))
    return "\n\n".join(str(p) for p in parts if p is not None and str(p) != "")


class Format:
    """Inline and paragraph markup for one ``outputFormat``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def t(self, raw: str) -> str:
        """Return plain text escaped for the format."""
        return html.escape(raw, quote=False) if self.kind == "html" else raw

    def emph(self, raw: str) -> str:
        """Return text emphasised (bold) in the format."""
        if self.kind == "html":
            return f"<strong>{self.t(raw)}</strong>"
        return f"**{raw}**" if self.kind == "markdown" else raw

    def paras(self, *paragraphs: str) -> str:
        """Join non-empty paragraphs the way the format separates them."""
        kept = [p for p in paragraphs if p]
        if self.kind == "html":
            return "".join(f"<p>{p}</p>" for p in kept)
        return "\n\n".join(kept)

    def lines(self, *lines: str) -> str:
        """Join lines with the format's line break."""
        return ("<br>" if self.kind == "html" else "\n").join(self.t(x) for x in lines)


def persona_for(title: str, h: Hash) -> tuple[Persona, bool]:
    """Return the persona a job title maps to (and ``True``), else one drawn from ``h``."""
    # Whole words only: "cto" must not match "Director".
    words = f" {' '.join(re.findall(r'[a-z]+', title.lower()))} "
    for persona in PERSONAS:
        if any(f" {keyword} " in words for keyword in persona.keywords):
            return persona, True
    return h.pick(PERSONAS, "persona"), False


def oid(prefix: str, name: str) -> str:
    """Return a stable Octave-style id (``pr_…``) for a library item's name."""
    number = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=16).digest(), "big")
    chars = []
    for _ in range(21):
        number, rem = divmod(number, 62)
        chars.append(_B62[rem])
    return prefix + "".join(chars)


def _questions(topic: str) -> list[dict[str, Any]]:
    return [
        {
            "question": f"Is {topic} a priority this quarter?",
            "rationale": f"Teams that prioritise {topic} adopt faster.",
            "fitType": "GOOD",
            "weight": "MEDIUM",
            "archivedAt": None,
        }
    ]


def sequence_data(payload: Mapping[str, Any], h: Hash, steps: int) -> dict[str, Any]:
    """Build the ``data`` object of a successful Sequence Agent answer.

    Args:
        payload: The request body, already validated.
        h: The payload's hash.
        steps: Number of emails.

    Returns:
        ``{"emails", "product", "persona", "playbook", "outputType", "annotations"}``
        shaped like the documented example.

    """
    first, company = text(payload, "firstName"), text(payload, "companyName")
    title = text(payload, "jobTitle")
    product = h.pick(PRODUCTS, "product")
    persona, _ = persona_for(title, h)
    fmt = Format(str(payload.get("outputFormat") or "text"))
    ctx, instr = payload.get("runtimeContext"), payload.get("runtimeInstructions")
    offset = h.index(len(SUBJECTS), "subject")
    subjects = [s for s in SUBJECTS if first or "{first}" not in s]
    words = {
        "company": company or "your team",
        "company_name": company,
        "title": title,
        "first": first,
        "focus": persona.focus,
        "product": product.name,
        "pain": persona.pain,
    }
    emails = []
    for i in range(1, steps + 1):
        subject = subjects[(offset + i - 1) % len(subjects)].format(**words)
        value_prop = product.value_props[(h.index(3, "vp") + i) % len(product.value_props)]
        emails.append(
            {
                "email": text(payload, "email"),
                "subject": subject,
                "coreValueProp": value_prop,
                "sections": _sections(
                    fmt, i, h=h, words=words, value_prop=value_prop, ctx=ctx, instr=instr
                ),
            }
        )
    return {
        "emails": emails,
        **library_matches(payload, h),
        "outputType": "SCOPED_PLAYBOOK",
        "annotations": _annotations(payload, product.name, product.url, steps, persona.name),
    }


def library_matches(payload: Mapping[str, Any], h: Hash) -> dict[str, Any]:
    """Return the matched ``product``, ``persona`` and ``playbook`` sections for a contact.

    Args:
        payload: The request body (``jobTitle`` picks the persona, ``companyName`` is named).
        h: The payload's hash; picks the product, the playbook and each confidence.

    Returns:
        ``{"product", "persona", "playbook"}``, each with ``oId``, ``name``,
        ``matchConfidence`` and ``matchAnalysis``, as the sequence agent answers them.

    """
    title, company = text(payload, "jobTitle"), text(payload, "companyName")
    product = h.pick(PRODUCTS, "product")
    persona, by_title = persona_for(title, h)
    playbook = h.pick(PLAYBOOKS, "playbook")
    levels = {e: h.pick(CONFIDENCE_LEVELS, f"confidence:{e}") for e in ("pr", "pe", "pb")}
    who = company or "this account"
    persona_why = (
        f"The title {title!r} maps to the {persona.name} persona."
        if by_title
        else "No matching job title; persona inferred from the company profile."
    )
    return {
        "product": {
            "data": {
                "type": "PRODUCT",
                "internalName": product.internal_name,
                "summary": product.summary,
                "capabilities": list(product.capabilities),
                "differentiatedValue": list(product.value_props[:2]),
                "statusQuo": ["Manual research in spreadsheets", "Generic templates"],
                "challengesAddressed": [f"Slow {persona.focus}", "Low reply rates"],
                "customerBenefits": list(product.value_props),
                "customFields": [{"title": "Pricing model", "value": ["Per seat, annual"]}],
            },
            "oId": oid("pr_", product.name),
            "name": product.name,
            "internalName": product.internal_name,
            "description": product.summary,
            "primaryUrl": product.url,
            "qualifyingQuestions": _questions(persona.focus),
            "matchConfidence": levels["pr"],
            "matchAnalysis": f"{product.name} fits {who}: {product.summary}",
        },
        "persona": {
            "oId": oid("pe_", persona.name),
            "name": persona.name,
            "internalName": persona.internal_name,
            "qualifyingQuestions": _questions(persona.focus),
            "matchConfidence": levels["pe"],
            "matchAnalysis": persona_why,
        },
        "playbook": {
            "oId": oid("pb_", playbook.name),
            "name": playbook.name,
            "description": playbook.description,
            "type": "LEGACY",
            "keyInsight": [playbook.insight],
            "matchConfidence": levels["pb"],
            "matchAnalysis": f"{playbook.name} suits {who}. {playbook.insight}",
        },
    }


def _sections(
    fmt: Format,
    step: int,
    *,
    h: Hash,
    words: dict[str, str],
    value_prop: str,
    ctx: object,
    instr: object,
) -> dict[str, str]:
    first, title, company = words["first"], words["title"], words["company_name"]
    opening_index = 0 if company and title else 1 if company else 2 if title else 3
    opening = OPENINGS[opening_index].format(
        title=fmt.t(title),
        company=fmt.emph(company),
        focus=fmt.t(words["focus"]),
        pain=fmt.t(words["pain"]),
    )
    merged_ctx, merged_instr = merged_step_text(ctx, step), merged_step_text(instr, step)
    body = fmt.paras(
        f"{fmt.t(value_prop)}: that is what {fmt.emph(words['product'])} does for "
        f"{fmt.t(words['company'])}.",
        fmt.t(merged_ctx),
        fmt.t(f"Written with these notes in mind: {merged_instr}") if merged_instr else "",
    )
    ps = "" if step % 2 == 0 else fmt.paras(fmt.t(h.pick(PS_LINES, f"ps:{step}")))
    return {
        "greeting": fmt.paras(fmt.t(f"Hi {first}," if first else "Hi there,")),
        "opening": fmt.paras(opening),
        "body": body,
        "closing": fmt.paras(fmt.t(h.pick(CLOSINGS, f"closing:{step}"))),
        "cta": fmt.paras(fmt.t(CTAS[(h.index(len(CTAS), "cta") + step) % len(CTAS)])),
        "ps": ps,
        "signature": fmt.paras(fmt.lines(*SENDER)),
    }


def _annotations(
    payload: Mapping[str, Any], product: str, url: str, steps: int, persona: str
) -> dict[str, Any]:
    full = bool(payload.get("includeFullAnnotation"))
    items: list[dict[str, Any]] = [
        {
            "type": "PRODUCT",
            "title": product,
            "meta": {"source": "library"} if full else None,
            "description": f"Positioning drawn from {product}.",
            "url": url,
        }
    ]
    ctx = payload.get("runtimeContext")
    for key, value in sorted(ctx.items()) if isinstance(ctx, Mapping) else ():
        text = str(value)
        items.append(
            {
                "type": "RUNTIME_CONTEXT",
                "title": f"Runtime context ({key})",
                "meta": {"characters": len(text)} if full else None,
                "description": text[:80],
                "url": "",
            }
        )
    metadata = {"model": "octave-simulator", "steps": steps, "persona": persona} if full else None
    return {"annotations": items, "metadata": metadata}
