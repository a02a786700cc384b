"""The join QR code, drawn on the server as inline SVG."""

from __future__ import annotations

import io

import segno


def qr_svg(url: str, title: str = "QR code") -> str:
    """An inline <svg> of url's QR code that scales to its box (dark on light)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer,
        kind="svg",
        xmldecl=False,
        svgns=True,
        svgclass="qr",
        lineclass=None,
        omitsize=True,
        border=2,
        dark="#000",
        light="#fff",
        title=title,
    )
    return buffer.getvalue().decode()
