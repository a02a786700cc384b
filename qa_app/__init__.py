"""qa_app: self-hosted live Q&A for panel discussions."""

from __future__ import annotations

import os
from pathlib import Path

__version__ = "0.1.0"

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> str:
    """templates/ or static/: beside the package in a checkout, inside it in a wheel."""
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / name).is_dir():
        return str(checkout / name)
    return str(PACKAGE_DIR / name)


def instance_path() -> str | None:
    """QA_INSTANCE_PATH made absolute (Flask wants it so), or None for Flask's default: `instance/`
    beside the package in a checkout, `<prefix>/var/qa_app-instance` once it is installed."""
    path = os.environ.get("QA_INSTANCE_PATH")
    return os.path.abspath(os.path.expanduser(path)) if path else None


def create_app(config: dict | object | None = None):
    """Build the Flask app, its database, Socket.IO server and routes."""
    from flask import Flask

    from . import (
        admin,
        api,
        assets,
        auth,
        errorhandlers,
        headers,
        health,
        hosts,
        i18n,
        pages,
        queue_health,
        realtime,
        report,
        revocation,
        sockets,
        storage,
    )
    from . import config as settings
    from .domain import ratelimit
    from .extensions import JsonPacket, csrf, socketio

    static = resource_dir("static")
    asset_version, static_url_path = assets.static_url_path(static)
    app = Flask(
        __name__,
        template_folder=resource_dir("templates"),
        static_folder=static,
        static_url_path=static_url_path,  # url_for("static", ...) gives versioned URLs
        instance_path=instance_path(),
    )
    app.config.from_object(settings.Config())
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.instance_secret(app.instance_path)
    app.session_interface = auth.SessionCookies()
    assets.init_app(app, asset_version)  # first: its compression sees every other response
    storage.init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)
    ratelimit.init_app(app)
    realtime.init_app(app)
    revocation.init_app(app)
    origins = app.config["QA_ALLOWED_ORIGINS"] or None
    socketio.init_app(
        app,
        async_mode=app.config["QA_ASYNC_MODE"],
        **queue_health.queue_options(app),
        cors_allowed_origins=origins,
        ping_interval=app.config["QA_PING_INTERVAL"],
        ping_timeout=app.config["QA_PING_TIMEOUT"],
        max_http_buffer_size=app.config["MAX_CONTENT_LENGTH"],
        serializer=JsonPacket,
    )
    hosts.init_app(app)  # wraps Socket.IO too, as does what follows
    headers.init_app(app)
    if app.config["QA_TRUSTED_PROXIES"]:  # outermost: everything sees the client's host and scheme
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["QA_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    sockets.init_app()
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(report.bp)
    health.init_app(app)
    errorhandlers.init_app(app)
    return app
