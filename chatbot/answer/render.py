"""An answer's parts as plain text (the CLI, and `Answer.text`) and as JSON (the CLI and API
contract). The chat window's Markdown renderer is in chatbot/serve/render.py."""

from __future__ import annotations

from ..records import Answer, Quote
from .texts import language_name, text


def language_note(answer: Answer) -> str:
    """"The source is in Indonesian" when quotes come from passages in another language (and are
    shown as written, not in a reviewed translation)."""
    langs = [q.language for q in answer.quotes if q.language and q.translation is None]
    other = sorted(set(langs) - {answer.language})
    if not other:
        return ""
    key = "other_language_note" if all(lg != answer.language for lg in langs) else "mixed_language_note"
    return text(key, answer.language, language=language_name(other[0], answer.language))


def quote_lines(quote: Quote) -> list[str]:
    """A quote as "• sentence [n]" with its list items indented below; a translated quote adds
    its label and the original sentence (with its items)."""
    lines = [f"• {quote.text} [{quote.n + 1}]", *(f"   – {item}" for item in quote.items)]
    if quote.translation is not None:
        lines += [f"   {translation_label(quote)}", f"   {original_line(quote)}", *(f"   – {item}" for item in quote.original_items)]
    return lines


def translation_label(quote: Quote) -> str:
    """"Translated by clinic staff, reviewed DATE." (or the translated leaflet it comes from), in the reader's language."""
    t = quote.translation
    if t is None:
        return ""
    if t.kind == "leaflet":
        return text("translated_from_leaflet", t.language, language=language_name(t.language, t.language), title=t.title)
    return text("translated_by_staff", t.language, date=t.reviewed)


def original_line(quote: Quote) -> str:
    """"Original (Indonesian): ..." for a translated quote, in the reader's language."""
    lang = quote.translation.language if quote.translation is not None else quote.language
    return text("original_text", lang, language=language_name(quote.language, lang), text=quote.original)


def source_lines(answer: Answer) -> list[str]:
    """"[n] Title › Section (Language)" for every cited passage (the section as the source boxes show
    it: two passages of one leaflet are then two sources a reader can tell apart)."""
    lang = answer.language
    out = []
    for n in answer.sources:
        chunk = answer.hits[n].chunk
        section = shown_section(chunk)
        out.append(text("source_line", lang, n=n + 1, title=f"{chunk.title} › {section}" if section else chunk.title,
                        language=language_name(chunk.language, lang)))
    return out


def shown_section(chunk) -> str:
    """The section a patient sees beside a passage's title: its last heading, "" when there is none
    or it only repeats the title."""
    section = chunk.section.split(" › ")[-1].strip()
    return section if section != chunk.title.strip() else ""


def plain_text(answer: Answer) -> str:
    """The whole reply as plain text: urgent advice, notes, quotes, sources, disclaimer."""
    lang = answer.language
    lines = [text("urgent", lang)] if answer.urgent else []
    lines += list(answer.notes)
    if answer.quotes:
        lines.append(text("intro", lang))
        note = language_note(answer)
        lines += [note] if note else []
        for q in answer.quotes:
            lines += quote_lines(q)
        lines += ["", text("sources", lang), *source_lines(answer)]
    elif answer.abstained and not answer.notice:
        lines.append(text("no_answer", lang))
    if answer.disclaimer:
        lines += ["", text("disclaimer", lang)]
    return "\n".join(lines)


def to_json(answer: Answer) -> dict:
    """The CLI/API JSON contract: question, language, answer (plain text), abstained, urgent,
    quotes (text, items, passage number 1-based, language) and passages, best first."""
    return {
        "question": answer.question,
        "language": answer.language,
        "answer": answer.text,
        "abstained": answer.abstained,
        "urgent": answer.urgent,
        "quotes": [{"text": q.text, "items": list(q.items), "passage": q.n + 1, "language": q.language,
                    "translation": _translation_json(q)} for q in answer.quotes],
        "passages": [
            {
                "chunk_id": h.chunk.id,
                "doc_id": h.chunk.doc_id,
                "title": h.chunk.title,
                "section": h.chunk.section,
                "language": h.chunk.language,
                "text": h.chunk.text,
                "score": round(float(h.score), 4),
            }
            for h in answer.hits
        ],
    }


def _translation_json(quote: Quote) -> dict | None:
    """How a translated quote is labelled, and the original it stands for (None: shown as written)."""
    t = quote.translation
    if t is None:
        return None
    return {"kind": t.kind, "language": t.language, "reviewed": t.reviewed, "label": translation_label(quote),
            "original": quote.original, "original_items": list(quote.original_items)}
