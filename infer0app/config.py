"""Settings: flags > environment (INFER0_*) > defaults.

Every field carries its own documentation in `metadata["help"]`; `infer0 serve --help`
and the README's settings table are generated from / checked against it
(tests/unit/test_settings_documented.py fails when one falls behind).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from .egress.policy import EgressPolicy


def _setting(default: Any, help: str, *, choices: tuple[str, ...] | None = None,
             metavar: str | None = None) -> Any:
    return field(default=default, metadata={"help": help, "choices": choices, "metavar": metavar})


@dataclass(frozen=True)
class Settings:
    host: str = _setting("127.0.0.1", "Address to listen on. Use 0.0.0.0 only behind a firewall or proxy.")
    port: int = _setting(8080, "TCP port to listen on.")
    data_dir: Path = _setting(Path("./infer0-data"),
                              "Directory holding the SQLite database and the keyring file.", metavar="DIR")
    public_url: str = _setting("",
                               "Public base URL (the OAuth issuer), e.g. https://ai.example.com when behind a "
                               "TLS reverse proxy. Empty: http://HOST:PORT.", metavar="URL")
    signup: str = _setting("open", "Who may create an account in the browser: 'open' (anyone) or 'closed' "
                                   "(operators create users with `infer0 users create`).", choices=("open", "closed"))
    client_registration: str = _setting(
        "open", "Whether apps may register themselves through dynamic client registration (RFC 7591, "
                "POST /v1/oauth/register): 'open' (any app a user points at this server can register, as with "
                "Mastodon; such apps are marked unverified until an operator verifies them, and users still "
                "approve each one) or 'closed' (403 access_denied; operators and developers register apps "
                "with `infer0 apps create` or /dev/apps).", choices=("open", "closed"))
    client_registration_rate: int = _setting(
        20, "Dynamic client registrations accepted per client address per hour (counted in the database, one "
            "limit over all workers and instances); "
            "past it, 429 slow_down.", metavar="N")
    session_lifetime: int = _setting(14 * 24 * 3600, "Seconds a dashboard sign-in lasts.", metavar="SECONDS")
    access_token_ttl: int = _setting(3600, "Seconds an OAuth access token lives (the hosted original: 1 hour).",
                                     metavar="SECONDS")
    refresh_token_ttl: int = _setting(30 * 24 * 3600, "Seconds an OAuth refresh token lives (30 days).",
                                      metavar="SECONDS")
    trusted_proxies: str = _setting("", "Comma-separated addresses of reverse proxies whose X-Forwarded-For header "
                                        "names the real client (for sign-in and token-endpoint throttling). "
                                        "Empty: trust none, use the connecting address.", metavar="IPS")
    workers: int = _setting(1, "Server processes sharing the port (SO_REUSEPORT) and the database; one per "
                               "core scales throughput. Throttles and limits are counted in the database, so they hold over all "
                               "workers together.", metavar="N")
    log_format: str = _setting("text", "Log line format.", choices=("text", "json"))
    log_level: str = _setting("info", "Lowest level logged; 'warning' silences the per-request lines.",
                              choices=("debug", "info", "warning", "error"))
    upstream_timeout: float = _setting(120.0, "Seconds to wait for an upstream provider before answering 504: "
                                              "for the whole answer of a non-streaming call; in a stream, between "
                                              "two reads and between two complete events.", metavar="SECONDS")
    upstream_allow: str = _setting("", "Comma-separated upstream destinations users' provider URLs may reach "
                                       "although they are not public: loopback, private (RFC 1918, fc00::/7), "
                                       "link-local (cloud metadata) and other special addresses are refused "
                                       "otherwise. Each entry is a host, an address or a CIDR, with an optional "
                                       "port: 127.0.0.1:11434 (a local Ollama), 10.0.0.0/8, [::1]:8080, "
                                       "ollama.lan:11434.", metavar="HOSTS")
    shutdown_timeout: float = _setting(30.0, "Seconds running streams may take to finish on SIGTERM.",
                                       metavar="SECONDS")
    refresh_reuse_interval: int = _setting(
        0, "Seconds after a refresh token is rotated during which the same client presenting it again "
           "(two tabs, a retry after a lost response) gets a fresh token pair from the same authorization "
           "instead of having the whole authorization revoked as a stolen-token replay. 0 (default): any "
           "reuse revokes. Trade-off: within the interval a thief holding the spent token gets tokens too, "
           "and the theft is not detected; keep it a few seconds at most (max 300).", metavar="SECONDS")
    body_read_timeout: float = _setting(30.0, "Seconds a client may take to send a request body once its "
                                              "headers arrived; a slower body is answered 408 and the "
                                              "connection closed.", metavar="SECONDS")
    keepalive_timeout: float = _setting(75.0, "Seconds a connection may wait for its next complete request "
                                              "head (an idle keep-alive connection, or headers trickling in) "
                                              "before it is closed.", metavar="SECONDS")
    default_grant_limits: str = _setting(
        "", "Limits a new authorization starts with on the consent page (the user may change them), as "
            "name=value pairs: spend_per_day, spend_per_week, spend_per_month (US dollars), tokens_per_day, "
            "requests_per_minute, e.g. 'spend_per_month=5,requests_per_minute=60'. Empty: no limits.",
        metavar="LIMITS")
    max_grant_limits: str = _setting(
        "", "The most a user may allow any app, same form as --default-grant-limits; a limit named here "
            "cannot be 'none', and apps' suggested limits above it are lowered to it. Empty: no maximum.",
        metavar="LIMITS")
    usage_raw_days: int = _setting(
        30, "Days raw usage rows (one per request) are kept; older ones are rolled up hourly into one row "
            "per app, model, status and day, kept indefinitely. Totals do not change.", metavar="DAYS")
    # -- issue 17: metrics (appended in one block) --
    metrics_token: str = field(default="", repr=False, metadata=_setting(  # a secret: not in repr()
        "", "Serve Prometheus metrics at GET /metrics to scrapes that send 'Authorization: Bearer TOKEN' "
            "(401 otherwise). At least 16 characters; prefer the environment variable, which other users "
            "of the machine cannot read in the process list. Empty: no /metrics.", metavar="TOKEN").metadata)
    # issue 17 §2: accounts
    require_2fa: str = _setting(
        "off", "'on': every user must use two-factor sign-in (TOTP); one without it is sent to set it up "
               "right after signing in, before any other page. 'off': each user chooses on the Account page.",
        choices=("off", "on"))
    database_url: str = _setting(
        "", "PostgreSQL database to use instead of the SQLite file in the data dir, as "
            "postgresql://USER@HOST:PORT/DBNAME (several infer0 instances may share it). Give the password "
            "with --database-password-file or PGPASSWORD rather than in the URL, so it stays out of `ps`. "
            "Empty: SQLite in the data dir (the keyring stays in the data dir either way).", metavar="URL")
    database_password_file: str = _setting(
        "", "File whose first line is the PostgreSQL password (overrides one in --database-url; never "
            "logged). Empty: the URL's password, else PGPASSWORD or ~/.pgpass.", metavar="FILE")

    # -- issue 15 §3: the keyring given to every instance (appended in one block) --
    keyring_file: str = _setting(
        "", "The keyring file (the key-encryption keys that open stored provider keys) to use instead of "
            "keyring.json in the data dir: one file shared by every instance on one PostgreSQL database "
            "(a mounted secret or a shared volume), so a key rotation reaches all of them. It must be "
            "readable by its owner only (mode 0600 or 0400): a group- or world-readable file is refused. "
            "Empty: DIR/keyring.json.", metavar="FILE")

    @property
    def database_password(self) -> str | None:
        """The password read from --database-password-file (None when not set)."""
        if not self.database_password_file:
            return None
        try:
            with open(Path(self.database_password_file).expanduser(), encoding="utf-8") as fh:
                return fh.readline().rstrip("\r\n")
        except OSError as exc:
            raise SettingsError(f"--database-password-file: cannot read {self.database_password_file}: "
                                f"{exc.strerror}") from None

    @property
    def issuer(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def grant_limit_defaults(self):
        """--default-grant-limits as services.grant_limits.GrantLimits (validated at load)."""
        from .services.limit_choice import parse_spec
        return parse_spec(self.default_grant_limits, "--default-grant-limits")

    @property
    def grant_limit_maximum(self):
        from .services.limit_choice import parse_spec
        return parse_spec(self.max_grant_limits, "--max-grant-limits")

    @property
    def trusted_proxy_set(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.trusted_proxies.split(",") if p.strip())

    @property
    def egress_policy(self) -> EgressPolicy:
        """The destination policy of the upstream connector (infer0app/egress)."""
        return EgressPolicy.parse(self.upstream_allow)

    @property
    def secure_cookies(self) -> bool:
        return self.issuer.startswith("https://")


MAX_LIFETIME = 10 * 365 * 86400  # seconds: session and token lifetimes
MAX_TIMEOUT = 86400  # seconds: any timeout setting


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names it."""


def env_name(name: str) -> str:
    return "INFER0_" + name.upper()


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def setting_fields():
    return fields(Settings)


def _coerce(name: str, raw: Any, typ: Any) -> Any:
    try:
        if typ in (int, "int"):
            return int(raw)
        if typ in (float, "float"):
            return float(raw)
        if typ in (Path, "Path"):
            return Path(raw).expanduser()
        return str(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{flag_name(name)} / {env_name(name)}: {raw!r} is not a valid {typ}") from None


def load_settings(flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from flags (None = not given) over INFER0_* environment over defaults."""
    flags = flags or {}
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Settings):
        raw = flags.get(f.name)
        if raw is None:
            raw = environ.get(env_name(f.name))
        if raw is None or raw == "" and f.name != "public_url":
            continue
        value = _coerce(f.name, raw, f.type)
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            raise SettingsError(f"{flag_name(f.name)}: {value!r} is not one of {', '.join(choices)}")
        values[f.name] = value
    settings = replace(Settings(), **values)
    validate(settings)
    return settings


def validate(s: Settings) -> None:
    if not (0 < s.port < 65536):
        raise SettingsError(f"--port: {s.port} is not a TCP port (1-65535)")
    if s.public_url:
        parts = urlsplit(s.public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise SettingsError(f"--public-url: {s.public_url!r} must be an http(s) URL with no query or fragment")
    if not 1 <= s.workers <= 64:
        raise SettingsError(f"--workers: {s.workers} is not between 1 and 64")
    if not 1 <= s.client_registration_rate <= 100_000:
        raise SettingsError(f"--client-registration-rate: {s.client_registration_rate} is not between 1 and 100000")
    if not 0 <= s.refresh_reuse_interval <= 300:
        raise SettingsError(f"--refresh-reuse-interval: {s.refresh_reuse_interval} is not between 0 and 300")
    try:
        s.egress_policy
    except ValueError as exc:
        raise SettingsError(f"--upstream-allow: {exc}") from None
    if not 1 <= s.usage_raw_days <= 3660:
        raise SettingsError(f"--usage-raw-days: {s.usage_raw_days} is not between 1 and 3660")
    from .services.limit_choice import parse_spec  # services import no settings: no cycle
    for name in ("default_grant_limits", "max_grant_limits"):
        try:
            parse_spec(getattr(s, name), flag_name(name))
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
    if s.metrics_token and (len(s.metrics_token) < 16 or not all(33 <= ord(c) <= 126 for c in s.metrics_token)):
        raise SettingsError("--metrics-token / INFER0_METRICS_TOKEN: use at least 16 printable characters "
                            "without spaces (e.g. the output of `openssl rand -hex 32`)")
    if s.database_url and not s.database_url.startswith(("postgresql://", "postgres://")):
        raise SettingsError("--database-url: expected postgresql://USER@HOST:PORT/DBNAME "
                            "(without it, infer0 uses SQLite in the data dir)")
    for name in ("session_lifetime", "access_token_ttl", "refresh_token_ttl", "body_read_timeout",
                 "keepalive_timeout"):
        if getattr(s, name) <= 0:
            raise SettingsError(f"{flag_name(name)} must be positive")
    # Upper bounds: a lifetime past 10 years overflows the 64-bit expiry columns (a 500 at the
    # first token); a timeout must be a finite number of seconds (nan and inf never end).
    for name in ("session_lifetime", "access_token_ttl", "refresh_token_ttl"):
        if getattr(s, name) > MAX_LIFETIME:
            raise SettingsError(f"{flag_name(name)}: {getattr(s, name)} is more than {MAX_LIFETIME} seconds (10 years)")
    for name in ("upstream_timeout", "shutdown_timeout", "body_read_timeout", "keepalive_timeout"):
        if not 0 <= getattr(s, name) <= MAX_TIMEOUT:  # False for nan
            raise SettingsError(f"{flag_name(name)}: {getattr(s, name)} is not a number of seconds from 0 to "
                                f"{MAX_TIMEOUT}")
