"""`newsmon ui`: a login that cannot work, or a busy port, is a clear error at start."""

from __future__ import annotations

import socket

from click.testing import CliRunner

from monitor.cli import main


def test_ui_refuses_a_login_without_its_secret(clean_settings_env, monkeypatch):
    monkeypatch.setenv("NEWSMON_DASHBOARD_AUTH", "token")
    result = CliRunner().invoke(main, ["ui"])
    assert result.exit_code == 1
    assert "needs NEWSMON_DASHBOARD_SECRET or dashboard.secret_file" in result.output


def test_ui_refuses_a_short_token(clean_settings_env, monkeypatch):
    monkeypatch.setenv("NEWSMON_DASHBOARD_AUTH", "token")
    monkeypatch.setenv("NEWSMON_DASHBOARD_SECRET", "short")
    result = CliRunner().invoke(main, ["ui"])
    assert result.exit_code == 1 and "at least 16 characters" in result.output


def test_ui_says_when_its_port_is_taken(clean_settings_env, monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")  # never reached: it fails before
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["ui", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
