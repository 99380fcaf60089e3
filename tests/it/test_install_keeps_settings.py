"""A Linux update (install-linux over an installed copy) keeps IT's settings file: it
holds the locks (docs/guia-it.md §4), and losing it silently unlocked the server."""

from __future__ import annotations

from pathlib import Path

from app.cli.install import IT_SETTINGS_FILE, install_linux


def _bundle(root: Path, marker: str) -> Path:
    root.mkdir(parents=True)
    (root / "siee-campo").write_text(f"#!/bin/sh\necho {marker}\n")
    (root / "siee-campo").chmod(0o755)
    (root / "_internal").mkdir()
    return root


def test_an_update_keeps_the_settings_file_it_left_in_the_program_folder(tmp_path):
    prefix = tmp_path / "prefix"
    install_linux(_bundle(tmp_path / "v1", "v1"), prefix)
    program = prefix / "lib" / "siee-campo"
    settings = program / IT_SETTINGS_FILE
    settings.write_text('server_url = "https://siee.example.pe"\nlocked = ["server_url"]\n')
    install_linux(_bundle(tmp_path / "v2", "v2"), prefix)
    assert "v2" in (program / "siee-campo").read_text()  # the update did happen
    assert settings.read_text().startswith('server_url = "https://siee.example.pe"')
