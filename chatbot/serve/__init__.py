"""The engine as served: loading, reloading, the chat window, the HTTP server."""
