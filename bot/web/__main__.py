"""Serve the chat page: ``python -m bot.web --port 8000 [--socket-url http://localhost:5005]``."""

from __future__ import annotations

import argparse
import logging
import os

from bot.web import DEFAULT_SOCKET_URL, SOCKET_URL_ENV, PageConfig, create_server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.web", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--socket-url",
        default=os.environ.get(SOCKET_URL_ENV) or DEFAULT_SOCKET_URL,
        help=f"the Rasa server the page connects to (env {SOCKET_URL_ENV})",
    )
    parser.add_argument(
        "--storage",
        choices=("session", "local"),
        default="session",
        help="where the widget keeps its copy of the chat: 'session' forgets it when the tab closes",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    server = create_server(
        args.host, args.port, config=PageConfig(socket_url=args.socket_url, storage=args.storage)
    )
    host, port = server.server_address[:2]
    logging.getLogger("bot.web").info("Secure Base page on http://%s:%s/", host, port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
