"""The door of the staff area: a login page, logout, the export download, and a guard on every /staff path.

A plain HTML form (no script) posts the name and password; a right one gets an opaque session
cookie (HttpOnly, SameSite=Strict, path /staff). The guard, an ASGI middleware, lets no request
under /staff through without a live session except the login and logout pages: pages are
redirected to the login, everything else (Gradio's config, queue, files) gets 401.
"""

import html
import json
import logging
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from typing import Any

from ..errors import AccountError, StoreError
from ..store.accounts import LoginRefused
from .patient_ui import reader_language
from .render import ui_text

log = logging.getLogger("chatbot")
PREFIX = "/staff"
COOKIE = "chatbot_staff"
OPEN_PATHS = {f"{PREFIX}/login", f"{PREFIX}/logout"}
FIELD_LIMIT = 2000  # characters of a submitted name or password that are looked at

PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title>
<style>
body {{font-family: system-ui, sans-serif; background:#f5f7f7; color:#1f2937; margin:0;}}
main {{max-width:380px; margin:10vh auto; background:#fff; border-radius:10px; padding:24px 28px; box-shadow:0 1px 4px #0002;}}
h1 {{font-size:1.4rem; margin-top:0;}} label {{display:block; margin:14px 0 4px; font-weight:600;}}
input {{width:100%; box-sizing:border-box; padding:8px; font-size:1rem; border:1px solid #9ca3af; border-radius:6px;}}
button {{margin-top:18px; width:100%; padding:10px; font-size:1rem; background:#0f766e; color:#fff; border:0; border-radius:6px;}}
.message {{background:#fde8e8; color:#7f1d1d; border-radius:6px; padding:8px 10px;}} .note {{background:#e6f4f1;}}
code {{background:#eef; padding:2px 5px; border-radius:4px;}} small {{opacity:.8;}}
</style></head><body><main><h1>{title}</h1>{body}</main></body></html>"""


def _text(key: str, lang: str, **values: Any) -> str:
    return html.escape(ui_text(key, lang, **values))


def login_page(lang: str, message: str = "", note: bool = False, form: bool = True, name: str = "") -> str:
    """The login page in `lang`; `message` is shown above the form (already in that language)."""
    body = [f'<p><small>{_text("login_intro", lang)} <a href="/">{_text("app_title", lang)}</a></small></p>']
    if message:
        body.append(f'<p class="message{" note" if note else ""}" role="alert" id="login-message">{message}</p>')
    if form:
        body.append(f'<form method="post" action="{PREFIX}/login" id="login-form">'
                    f'<label for="name">{_text("login_name", lang)}</label>'
                    f'<input id="name" name="name" autocomplete="username" required maxlength="64" value="{html.escape(name)}">'
                    f'<label for="password">{_text("login_password", lang)}</label>'
                    f'<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">'
                    f'<button type="submit" id="login-button">{_text("login_button", lang)}</button></form>')
    return PAGE.format(lang=lang, title=_text("login_title", lang), body="".join(body))


def _wait_text(seconds: int, lang: str) -> str:
    return ui_text("login_minutes", lang, n=-(-seconds // 60)) if seconds >= 60 else ui_text("login_seconds", lang, n=seconds)


def _closed_page(store: Any, store_error: str, lang: str) -> Any:
    """The page shown instead of the form when the staff area cannot open (no database, no account), else None."""
    from fastapi.responses import HTMLResponse

    def closed(message: str, note: bool = False) -> Any:
        return HTMLResponse(login_page(lang, message, note=note, form=False), status_code=503)

    if store is None:
        return closed(_text("login_unavailable", lang) + f" <code>{html.escape(store_error or '?')}</code>")
    try:
        has_account = store.accounts.any()
    except StoreError as exc:
        return closed(_text("login_unavailable", lang) + f" <code>{html.escape(str(exc))}</code>")
    if not has_account:
        return closed(_text("login_no_account", lang) + " <code>chatbot staff add NAME</code>", note=True)
    return None


def install(app: Any, get_store: Callable[[], Any], store_error: Callable[[], str], secure: bool = False) -> None:
    """Add the login routes and the guard to the FastAPI `app` (before the staff Blocks is mounted)."""
    from fastapi import Request
    from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
    from starlette.concurrency import run_in_threadpool

    def closed_page(lang: str) -> Any:
        return _closed_page(get_store(), store_error(), lang)

    @app.get(f"{PREFIX}/login", include_in_schema=False)
    async def _login_form(request: Request) -> Any:
        lang = reader_language("auto", request)
        closed = await run_in_threadpool(closed_page, lang)
        if closed is not None:
            return closed
        flag = next((k for k in ("expired", "out") if k in request.query_params), "")
        message = {"expired": _text("login_expired", lang), "out": _text("login_logged_out", lang)}.get(flag, "")
        return HTMLResponse(login_page(lang, message, note=bool(message)))

    @app.post(f"{PREFIX}/login", include_in_schema=False)
    async def _login(request: Request) -> Any:
        lang = reader_language("auto", request)
        closed = await run_in_threadpool(closed_page, lang)
        if closed is not None:
            return closed
        form = await request.form()
        name, password = str(form.get("name") or "")[:FIELD_LIMIT], str(form.get("password") or "")[:FIELD_LIMIT]
        address = request.client.host if request.client else "unknown"
        try:
            session = await run_in_threadpool(get_store().accounts.login, name, password, address)
        except LoginRefused as exc:
            page = login_page(lang, _text("login_throttled", lang, wait=_wait_text(exc.wait_seconds, lang)), name=name)
            return HTMLResponse(page, status_code=429, headers={"Retry-After": str(exc.wait_seconds)})
        except AccountError:
            return HTMLResponse(login_page(lang, _text("login_wrong", lang), name=name), status_code=401)
        except StoreError as exc:
            log.warning("login failed: %s", exc)
            return HTMLResponse(login_page(lang, _text("login_unavailable", lang), form=False), status_code=503)
        response = RedirectResponse(f"{PREFIX}/", status_code=303)
        response.set_cookie(COOKIE, session.token, max_age=get_store().accounts.session_minutes * 60, path=PREFIX,
                            httponly=True, samesite="strict", secure=secure or request.url.scheme == "https")
        return response

    @app.get(f"{PREFIX}/logout", include_in_schema=False)
    async def _logout(request: Request) -> Any:
        store = get_store()
        if store is not None:
            try:
                await run_in_threadpool(store.accounts.logout, request.cookies.get(COOKIE))
            except StoreError as exc:
                log.warning("logout: %s", exc)
        response = RedirectResponse(f"{PREFIX}/login?out", status_code=303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    @app.get(f"{PREFIX}/export", include_in_schema=False)
    async def _export(request: Request) -> Any:
        store, user = get_store(), request.scope.get("staff_user", "?")
        counts = await run_in_threadpool(store.feedback.counts)
        await run_in_threadpool(store.audit.record, user, "export", f"{counts['questions']} questions, {counts['feedback']} feedback")
        return StreamingResponse(_jsonl(store.feedback.export()), media_type="application/x-ndjson",
                                 headers={"Content-Disposition": 'attachment; filename="chatbot-records.jsonl"'})

    app.add_middleware(StaffGuard, get_store=get_store)


def _jsonl(records: Iterator[dict]) -> Iterator[bytes]:
    for record in records:
        yield (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


def session_user(get_store: Callable[[], Any]) -> Callable[[Any], Any]:
    """Gradio's `auth_dependency`: the staff name of the request's session cookie, or None."""
    from starlette.concurrency import run_in_threadpool

    async def user(request: Any) -> str | None:
        return await _user_of(get_store(), request.cookies.get(COOKIE), run_in_threadpool)

    return user


async def _user_of(store: Any, token: str | None, run: Callable) -> str | None:
    if store is None or not token:
        return None
    try:
        return await run(store.accounts.session, token)
    except StoreError as exc:
        log.warning("session check failed: %s", exc)
        return None


class StaffGuard:
    """ASGI middleware: under /staff only the login and logout pages are open without a live session."""

    def __init__(self, app: Any, get_store: Callable[[], Any]) -> None:
        self.app, self.get_store = app, get_store

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or not (path == PREFIX or path.startswith(PREFIX + "/")) or path in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import JSONResponse, RedirectResponse

        token = _cookie(scope)
        user = await _user_of(self.get_store(), token, run_in_threadpool)
        if user is not None:
            scope["staff_user"] = user
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope.get("method") == "GET" and path in (PREFIX, PREFIX + "/"):
            response = RedirectResponse(f"{PREFIX}/login" + ("?expired" if token else ""), status_code=303)
        else:
            response = JSONResponse({"error": "login required", "login": f"{PREFIX}/login"}, status_code=401)
        await response(scope, receive, send)


def _cookie(scope: dict) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is no session
                return None
            if COOKIE in jar:
                return jar[COOKIE].value
    return None
