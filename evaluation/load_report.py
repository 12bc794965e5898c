"""The load test's figures, for the terminal and for the "Load test" section of
evaluation/reports/speed-and-load.md: product and tutorial baseline side by side, the issue's
targets beside the product's figures."""

from __future__ import annotations

from .speed_report import machine_line, plain, table, target

HEADER = ("figure", "product", "target (issue 15)", "tutorial baseline")


def rows(figures: dict) -> list[tuple[str, str, str, str]]:
    """(figure, product, target, tutorial) for the table."""
    p, t, s = figures["product"], figures["tutorial"], figures["settings"]
    pa, ta, pc, tc = p["a"], t["a"], p["chat"], t["chat"]
    return [
        ("questions answered at once", f"{p['concurrency']} (cores)", "", f"{t['concurrency']} (Gradio's default)"),
        (f"(a) {s['clients']} clients x {s['per_client']} questions, read as browsers read: errors",
         f"{pa['errors']} of {pa['requests']}", target("load_errors", pa["errors"]), f"{ta['errors']} of {ta['requests']}"),
        ("- answers/s", f"{pa['answers_per_s']:.1f}", target("load_rate", pa["answers_per_s"]), f"{ta['answers_per_s']:.1f}"),
        ("- latency p50", _ms(pa["p50_ms"]), "", _ms(ta["p50_ms"])),
        ("- latency p95", _ms(pa["p95_ms"]), target("load_p95", pa["p95_ms"]), _ms(ta["p95_ms"])),
        ("- latency max", _ms(pa["max_ms"]), "", _ms(ta["max_ms"])),
        ("- CPU per answer: server / clients", _cpu(pa), "", _cpu(ta)),
        *_gradio_client_rows(p, t, s),
        (f"chat round trip, {s['chat_questions']} questions one after another: p50", _ms(pc["p50_ms"]), "", _ms(tc["p50_ms"])),
        ("- p95", _ms(pc["p95_ms"]), target("chat_p95", pc["p95_ms"]), _ms(tc["p95_ms"])),
        ("- errors", str(pc["errors"]), "", str(tc["errors"])),
        *_no_ca_rows(pc, tc),
        ("the same, read as a browser reads the event stream: p50", _ms(_stream(pc, "p50_ms")), "", _ms(_stream(tc, "p50_ms"))),
        ("- p95", _ms(_stream(pc, "p95_ms")), "", _ms(_stream(tc, "p95_ms"))),
        ("- errors", str(_stream(pc, "errors") if _stream(pc, "errors") is not None else "-"), "",
         str(_stream(tc, "errors") if _stream(tc, "errors") is not None else "-")),
        ("server peak RSS after (a) and the round trip", _mib(p["peak_rss_mib"]), target("rss", p["peak_rss_mib"]),
         _mib(t["peak_rss_mib"])),
    ]


def _gradio_client_rows(p: dict, t: dict, s: dict) -> list[tuple[str, str, str, str]]:
    """(a') the same clients as gradio_client sessions (absent from reports written before it was measured)."""
    pg, tg = p.get("a_gradio_client"), t.get("a_gradio_client")
    if not pg or not tg:
        return []
    return [(f"(a') the same through gradio_client sessions: errors", f"{pg['errors']} of {pg['requests']}", "",
             f"{tg['errors']} of {tg['requests']}"),
            ("- answers/s", f"{pg['answers_per_s']:.1f}", "", f"{tg['answers_per_s']:.1f}"),
            ("- latency p50 / p95", f"{_ms(pg['p50_ms'])} / {_ms(pg['p95_ms'])}", "", f"{_ms(tg['p50_ms'])} / {_ms(tg['p95_ms'])}"),
            ("- CPU per answer: server / clients", _cpu(pg), "", _cpu(tg))]


def _no_ca_rows(pc: dict, tc: dict) -> list[tuple[str, str, str, str]]:
    """The round trip through a gradio_client that does not load the certificate bundle (absent
    from reports written before it was measured)."""
    pn, tn = pc.get("no_ca"), tc.get("no_ca")
    if not pn or not tn:
        return []
    return [("the same, gradio_client not loading the certificate bundle (plain http): p50", _ms(pn["p50_ms"]), "",
             _ms(tn["p50_ms"])),
            ("- p95", _ms(pn["p95_ms"]), target("chat_p95", pn["p95_ms"]), _ms(tn["p95_ms"])),
            ("- errors", str(pn["errors"]), "", str(tn["errors"]))]


def _cpu(a: dict) -> str:
    if a.get("server_cpu_ms") is None:
        return "-"
    return f"{a['server_cpu_ms']:.0f} / {a['clients_cpu_ms']:.0f} ms"


def _stream(chat: dict, key: str) -> float | None:
    """A figure of the event-stream round trip (None in reports written before it was measured)."""
    return (chat.get("stream") or {}).get(key)


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.0f} ms"


def _mib(x: float) -> str:
    return f"{x:.0f} MiB"


def product_only(figures: dict) -> list[str]:
    """(b), (c) and the store, measured for the product alone."""
    p, s = figures["product"], figures["settings"]
    b, c = p["b"], p["c"]
    refused = sum(v for k, v in b["got"].items() if k != "ok")
    return [f"(b) queue of 2, {s['burst']} questions at once: {b['got'].get('ok', 0)} answered, {refused} refused; refusals "
            f"polite ('try again'): {b['polite']}; answering normally afterwards: {b['recovered']}",
            f"(c) {c['asked']} sequential questions: VmRSS {c['rows'][0][1]:.1f} -> {c['rows'][-1][1]:.1f} MiB "
            f"({c['growth']:+.1f} MiB), peak {c['rows'][-1][2]:.1f} MiB (target {target('rss', c['rows'][-1][2])}); "
            f"non-ok answers: {c['non_ok']}",
            f"store ({s['database']}): (a) {p['a']['store']}; "
            + (f"(a') {p['a_gradio_client']['store']}; " if p.get("a_gradio_client") else "") + f"(c) {c['store']}",
            f"servers still running at the end: product {p['alive']}, tutorial {figures['tutorial']['alive']}"]


def floor_lines(figures: dict) -> list[str]:
    """The chat round trips against the echo server (absent from reports written before it was measured)."""
    floor = (figures.get("floor") or {}).get("chat")
    if not floor:
        return []
    ways = [("gradio_client as installed", floor), ("gradio_client not loading the certificate bundle", floor.get("no_ca")),
            ("read as a browser reads the event stream", floor.get("stream"))]
    said = "; ".join(f"{name} p50 {_ms(f['p50_ms'])}, p95 {_ms(f['p95_ms'])}, errors {f['errors']}" for name, f in ways if f)
    return [f"Floor, the same {figures['settings']['chat_questions']} questions against the same chat app replying \"ok\" "
            f"with no work (`python -m evaluation.tutorial serve --echo`), same run, measured last: {said}. This is "
            "what the client spends of its own (it sends only the question, where the product's chat also sends the "
            "conversation so far): a server that answers adds to it."]


def summary(figures: dict) -> None:
    meta = figures["meta"]
    print("\n=== summary ===\n" + plain(HEADER, rows(figures)) + "\n")
    print("\n".join(floor_lines(figures) + product_only(figures)))
    print(f"load average at start {meta['load_average_at_start']}, at end {meta['load_average_at_end']} ({meta['cores']} cores)")


def markdown(figures: dict) -> str:
    """The report section: what was run, the table, the product's own phases, the machine and its load."""
    return ("Loopback, seed corpus (`corpus/`), product embedder "
            f"`{figures['settings']['model']}`. Product: `chatbot serve`, its chat API `/chat`. Tutorial baseline: "
            "`python -m evaluation.tutorial serve`, a `gr.ChatInterface` whose function returns the top passage with its "
            "title, launched as a tutorial launches it (`launch(share=False)`, no `queue()` call: Gradio's "
            "`default_concurrency_limit` of 1). Each server runs alone, one after the other, on the same two cores as "
            "its clients (threads of the measuring process). In (a) each client is one browser tab: one session, joining "
            "the queue and reading the answer's event stream as a browser does, sending the conversation so far with each "
            "question (it does not send the privacy-note update a browser asks for after each answer, a small event outside "
            "the queue). (a') repeats (a) with a gradio_client session per client, which sends no conversation and costs "
            "the measuring process more CPU per answer than the server spends answering (row \"CPU per answer\"): "
            "gradio_client makes a new httpx client for each request, and httpx loads the certificate bundle into each, "
            "even for an http:// address (about 25 ms of CPU each, two a question); on a clinic's server the patients' "
            "browsers run elsewhere. The chat round trip goes through one gradio_client, which looks for new messages every "
            "50 ms (gradio_client/utils.py, `stream_sse_v1plus`) and so rounds each round trip up to the next 50 ms; it is "
            "measured as installed and again with `ssl_verify=False` (plain http: no TLS, nothing to verify), which "
            "leaves out the certificate bundle and nothing else; the event-stream rows read the same answers the way a "
            "browser does. Peak RSS: the server process's VmHWM.\n\n"
            f"{table(HEADER, rows(figures))}\n" + "".join(f"{line}\n\n" for line in floor_lines(figures)) + "Product only:\n\n" + "".join(f"- {line}\n" for line in product_only(figures))
            + f"\n{machine_line(figures['meta'])}\n")
