"""The ``eip run`` configuration: YAML file, ``EIP_...`` overrides, secrets (``eip/config.py``)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from eip.config import Config, load_config, mask_text
from eip.errors import ConfigFileError, ConfigurationError
from eip.uri import MASK

FULL = """
properties:
  orders:
    folder: data/orders
    batch: 25
  ftp:
    password_file: secrets/ftp
server:
  host: 0.0.0.0
  port: 9090
  threads: 4
  max_request_body: 512KB
amqp:
  url: amqp://app@rabbit:5672/prod
  password_env: AMQP_PASSWORD
datasources:
  orders:
    url: postgresql+psycopg://app@db:5432/orders
    password_env: ORDERS_DB_PASSWORD
    pool_size: 5
    pool_recycle: 300
  local: sqlite:///local.db
auth:
  jwt:
    secret_file: secrets/jwt
    issuer: https://login.example.com/
  api_keys:
    - key_env: OPS_KEY
      roles: [operator]
      name: ops
management:
  metrics_require_auth: true
  log_file: audit.log
logging:
  level: warning
  format: json
shutdown_timeout: 2500ms
"""

ENV = {"AMQP_PASSWORD": "amqp/p@ss", "ORDERS_DB_PASSWORD": "db-pass-123", "OPS_KEY": "ops-key-0123456789"}


def write(folder: Path, text: str, name: str = "eip.yaml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def full(tmp_path) -> Path:
    write(tmp_path / "secrets", "ftp-pass-xyz\n", "ftp")
    write(tmp_path / "secrets", "jwt-secret-abcdef\r\n", "jwt")
    return write(tmp_path, FULL)


def test_a_full_file_gives_typed_sections_with_secrets_read_from_env_and_files(full):
    config = load_config(full, environ=ENV)
    assert config.properties == {"orders.folder": "data/orders", "orders.batch": 25,
                                 "ftp.password": "ftp-pass-xyz"}
    assert config.server == {"host": "0.0.0.0", "port": 9090, "threads": 4, "max_request_body": 512 * 1024}
    assert config.amqp == {"url": "amqp://app@rabbit:5672/prod", "password": "amqp/p@ss"}
    assert config.datasources == {
        "orders": {"url": "postgresql+psycopg://app@db:5432/orders", "password": "db-pass-123",
                   "pool_size": 5, "pool_recycle": 300.0},
        "local": {"url": "sqlite:///local.db"}}
    # a secret file's trailing newline (and \r\n) is not part of the secret; relative to the file
    assert config.auth["jwt"] == {"secret": "jwt-secret-abcdef", "issuer": "https://login.example.com/"}
    assert config.auth["api_keys"] == [{"key": "ops-key-0123456789", "roles": ["operator"], "name": "ops"}]
    # management keeps settings it owns; log_file is not a secret name, so it is not read as one
    assert config.management == {"metrics_require_auth": True, "log_file": "audit.log"}
    assert config.logging == {"level": "WARNING", "format": "json"}
    assert config.shutdown_timeout == 2.5


def test_engine_properties_hold_placeholders_server_and_the_broker_url_with_its_password(full):
    props = load_config(full, environ=ENV).engine_properties()
    assert props["orders.folder"] == "data/orders"
    assert props["server.port"] == 9090 and props["server.host"] == "0.0.0.0"
    assert props["server.max_request_body"] == 524288
    assert props["amqp.url"] == "amqp://app:amqp%2Fp%40ss@rabbit:5672/prod"  # quoted into the URL


def test_repr_and_masked_never_show_a_secret(full):
    config = load_config(full, environ=ENV)
    text = repr(config) + str(config) + str(config.masked())
    for secret in ("ftp-pass-xyz", "amqp/p@ss", "amqp%2Fp%40ss", "db-pass-123", "jwt-secret-abcdef",
                   "ops-key-0123456789"):
        assert secret not in text
    masked = config.masked()
    assert masked["auth"]["jwt"]["secret"] == MASK
    assert masked["auth"]["jwt"]["issuer"] == "https://login.example.com/"
    assert masked["datasources"]["orders"]["password"] == MASK
    assert masked["properties"]["orders.folder"] == "data/orders"
    assert {"ftp-pass-xyz", "amqp/p@ss", "db-pass-123", "jwt-secret-abcdef", "ops-key-0123456789"} <= config.secrets
    assert config.mask("connect with db-pass-123 to amqp://app:amqp%2Fp%40ss@rabbit") == \
        f"connect with {MASK} to amqp://app:{MASK}@rabbit"


def test_config_reads_like_a_mapping_of_sections(full):
    config = load_config(full, environ=ENV)
    assert set(config) == {"properties", "server", "amqp", "datasources", "auth", "management",
                           "logging", "shutdown_timeout"}
    assert config["auth"] is config.auth
    assert config.get("management")["metrics_require_auth"] is True
    assert dict(config)["server"]["port"] == 9090
    assert Config().get("auth") == {} and Config().shutdown_timeout is None


def test_apply_sets_placeholders_and_adds_datasources_with_their_password(full, engine):
    config = load_config(full, environ=ENV)
    config.apply(engine)
    assert engine.resolve_placeholders("file:{{orders.folder}}?max_messages_per_poll={{orders.batch}}") == \
        "file:data/orders?max_messages_per_poll=25"
    orders = engine.datasource("orders")
    assert orders.url.password == "db-pass-123" and orders.url.host == "db"
    assert orders.options == {"pool_size": 5, "pool_recycle": 300.0}
    assert "db-pass-123" not in repr(orders)
    assert engine.datasource("local").url.database == "local.db"


# -- environment -----------------------------------------------------------------------------------
def test_without_a_file_the_environment_configures_server_broker_and_logging():
    config = load_config(None, environ={"EIP_SERVER_PORT": "0", "EIP_SERVER_MAX_REQUEST_BODY": "1MB",
                                        "EIP_AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/",
                                        "EIP_LOGGING_FORMAT": "JSON", "EIP_SHUTDOWN_TIMEOUT": "3s",
                                        "UNRELATED": "x"})
    assert config.source == "environment"
    assert config.server == {"port": 0, "max_request_body": 1024 * 1024}
    assert config.engine_properties()["amqp.url"] == "amqp://guest:guest@127.0.0.1:5672/"
    assert config.logging == {"format": "json"}
    assert config.shutdown_timeout == 3.0
    assert "guest" in config.secrets  # the URL's password
    assert "guest:guest" not in repr(config)


def test_environment_overrides_the_file(tmp_path):
    path = write(tmp_path, """
        properties:
          orders: {folder: from-file}
        server: {port: 9090}
        datasources:
          orders: {url: "sqlite:///file.db", pool_size: 2}
        auth:
          jwt: {issuer: from-file, audience: eip}
        management: {health_timeout: 2}
    """)
    config = load_config(path, environ={
        "EIP_ORDERS_FOLDER": "from-env", "EIP_SERVER_PORT": "8181",
        "EIP_DATASOURCE_ORDERS_URL": "sqlite:///env.db", "EIP_DATASOURCE_ORDERS_POOL_SIZE": "7",
        "EIP_AUTH_JWT_ISSUER": "from-env", "EIP_MANAGEMENT_HEALTH_TIMEOUT": "5"})
    assert config.properties == {"orders.folder": "from-env"}
    assert config.server["port"] == 8181
    assert config.datasources["orders"] == {"url": "sqlite:///env.db", "pool_size": 7}
    assert config.auth["jwt"] == {"issuer": "from-env", "audience": "eip"}
    assert config.management == {"health_timeout": "5"}  # management converts its own values


def test_a_bad_value_from_the_environment_names_the_variable(tmp_path):
    with pytest.raises(ConfigFileError, match=r"server\.port \(from EIP_SERVER_PORT\): expects an integer \(got 'eighty'\)"):
        load_config(None, environ={"EIP_SERVER_PORT": "eighty"})


def test_a_datasource_needs_a_url_from_the_file_or_the_environment(tmp_path):
    path = write(tmp_path, "datasources:\n  orders: {pool_size: 3}\n")
    with pytest.raises(ConfigFileError, match=r"datasources\.orders: needs a url .*EIP_DATASOURCE_ORDERS_URL"):
        load_config(path, environ={})
    config = load_config(path, environ={"EIP_DATASOURCE_ORDERS_URL": "sqlite://"})
    assert config.datasources["orders"] == {"url": "sqlite://", "pool_size": 3}


# -- mistakes -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "message"), [
    ("sever:\n  port: 1\n", "unknown key 'sever'; did you mean 'server'?"),
    ("datasource:\n  x: sqlite://\n", "unknown key 'datasource'; did you mean 'datasources'?"),
    ("server:\n  prot: 1\n", r"server: unknown key 'prot'; did you mean 'port'\?"),
    ("logging:\n  levle: info\n", "logging: unknown key 'levle'; did you mean 'level'?"),
    ("datasources:\n  x: {url: 'sqlite://', pool_sise: 1}\n", "datasources.x: unknown key 'pool_sise'; did you mean 'pool_size'?"),
    ("amqp:\n  uri: amqp://h\n", "amqp: unknown key 'uri'; did you mean 'url'?"),
])
def test_a_typo_is_an_error_with_the_closest_valid_key(tmp_path, text, message):
    with pytest.raises(ConfigFileError, match=message.replace("?", r"\?") if "\\" not in message else message):
        load_config(write(tmp_path, text), environ={})


@pytest.mark.parametrize(("text", "message"), [
    ("server: {port: 70000}\n", r"server\.port: expects a port number from 0 to 65535"),
    ("server: {threads: 0}\n", r"server\.threads: expects at least 1 thread"),
    ("server: {port: true}\n", r"server\.port: expects an integer"),
    ("server: {max_request_body: lots}\n", r"server\.max_request_body: not a size: 'lots'"),
    ("logging: {level: loud}\n", r"logging\.level: expects one of DEBUG, INFO"),
    ("logging: {format: xml}\n", r"logging\.format: expects one of auto, text, logfmt, json"),
    ("shutdown_timeout: soon\n", r"shutdown_timeout: not a duration"),
    ("shutdown_timeout: -1\n", r"shutdown_timeout: expects a duration of 0 or more"),
    ("properties: {a: [1, 2]}\n", r"properties\.a: a property must be a text, number or boolean"),
    ("properties: {a: }\n", r"properties\.a: a property must be .*\(it is empty\)"),
    ("server: [1]\n", r"server: must be a mapping, got list"),
    ("- server\n", r"the top level must be a mapping of sections"),
])
def test_bad_values_are_errors_naming_the_key(tmp_path, text, message):
    with pytest.raises(ConfigFileError, match=message):
        load_config(write(tmp_path, text), environ={})


def test_a_key_given_twice_is_an_error_with_its_line(tmp_path):
    path = write(tmp_path, "server:\n  port: 1\n  host: a\n  port: 2\n")
    with pytest.raises(ConfigFileError, match=r"invalid YAML at line 4, column 3: key 'port' appears twice"):
        load_config(path, environ={})


def test_invalid_yaml_says_where_without_echoing_the_line(tmp_path):
    path = write(tmp_path, "auth:\n  jwt:\n    secret: 'hunter2-plain-text\n  other: x\n")
    with pytest.raises(ConfigFileError) as caught:
        load_config(path, environ={})
    assert "invalid YAML at line" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_missing_file_and_empty_file(tmp_path):
    with pytest.raises(ConfigFileError, match="config file .*nowhere.yaml does not exist"):
        load_config(tmp_path / "nowhere.yaml", environ={})
    empty = load_config(write(tmp_path, "# nothing yet\n"), environ={})
    assert empty.server == {} and empty.properties == {} and empty.shutdown_timeout is None
    assert isinstance(ConfigFileError("x"), ConfigurationError)


# -- secrets --------------------------------------------------------------------------------------
def test_a_missing_secret_names_the_key_and_the_variable_or_file_never_a_value(tmp_path):
    path = write(tmp_path, "datasources:\n  orders: {url: 'postgresql://app@db/x', password_env: DB_PW}\n")
    with pytest.raises(ConfigFileError, match=r"datasources\.orders\.password_env: the environment variable DB_PW is not set"):
        load_config(path, environ={})
    path = write(tmp_path, "auth:\n  jwt: {secret_file: missing.txt}\n")
    with pytest.raises(ConfigFileError, match=r"auth\.jwt\.secret_file: the file .*missing\.txt cannot be read: No such file"):
        load_config(path, environ={})
    path = write(tmp_path, "amqp: {url: 'amqp://app@h/', password_env: EMPTY}\n")
    with pytest.raises(ConfigFileError, match="the environment variable EMPTY is empty"):
        load_config(path, environ={"EMPTY": ""})


def test_a_secret_is_given_one_way_only(tmp_path):
    path = write(tmp_path, "amqp: {url: 'amqp://app@h/', password: inline, password_env: PW}\n")
    with pytest.raises(ConfigFileError, match=r"amqp\.password: give only one of password, password_env"):
        load_config(path, environ={"PW": "x"})


def test_the_broker_password_needs_a_user_in_the_url(tmp_path):
    with pytest.raises(ConfigFileError, match=r"amqp\.password: needs a user name in amqp\.url") as caught:
        load_config(write(tmp_path, "amqp: {url: 'amqp://rabbit:5672/', password_env: PW}\n"),
                    environ={"PW": "s3cret-pw"})
    assert "s3cret-pw" not in str(caught.value)


def test_api_keys_as_a_map_and_as_a_list_are_secrets(tmp_path):
    config = load_config(write(tmp_path, """
        auth:
          api_keys: {key-one-aaaa: viewer, key-two-bbbb: operator}
          tokens: [tok-1111, tok-2222]
    """), environ={})
    assert {"key-one-aaaa", "key-two-bbbb", "tok-1111", "tok-2222"} <= config.secrets
    text = repr(config)
    assert "key-one-aaaa" not in text and "tok-2222" not in text
    assert "viewer" in text and "operator" in text and "viewer" not in config.secrets


def test_mask_text_covers_uri_options_and_user_info():
    text = "to amqp://u:pw-123@h/ and sql:x?password=abc&user=me and the-token"
    assert mask_text(text, {"the-token"}) == \
        f"to amqp://u:{MASK}@h/ and sql:x?password={MASK}&user=me and {MASK}"


def test_env_and_file_references_of_other_tools_are_refused_not_taken_literally(tmp_path):
    path = write(tmp_path, "auth:\n  jwt:\n    secret: ${env:EIP_JWT_SECRET}\n")
    with pytest.raises(ConfigFileError, match=r"auth\.jwt\.secret: \$\{env:\.\.\.\} references are not read "
                                              r"here: give the secret as secret_env: VARIABLE instead"):
        load_config(path, environ={"EIP_JWT_SECRET": "x"})
    path = write(tmp_path, "auth:\n  api_keys:\n    - key: ${file:/run/secrets/k}\n")
    with pytest.raises(ConfigFileError, match=r"auth\.api_keys\[0\]\.key: .* as key_file: PATH instead"):
        load_config(path, environ={})
    # a Simple expression in a property is not a reference
    config = load_config(write(tmp_path, "properties:\n  target: direct:${header.lane}\n"), environ={})
    assert config.properties == {"target": "direct:${header.lane}"}


# -- every problem at once (issue 9, item 26) -------------------------------------------------------
MANY_PROBLEMS = """\
sever:
  port: 1
server:
  port: eighty
  treads: 4
amqp:
  url: amqp://app@rabbit/
  pasword_env: AMQP_PW
datasources:
  orders:
    password_env: MISSING_DB_PW
logging:
  level: loud
shutdown_timeout: soon
"""


def test_every_problem_of_a_file_is_reported_at_once_with_its_key_and_line(tmp_path):
    path = write(tmp_path, MANY_PROBLEMS)
    with pytest.raises(ConfigFileError) as caught:
        load_config(path, environ={})
    problems = caught.value.problems
    assert problems == [  # in file order, each with its line and key path
        f"{path}:1: unknown key 'sever'; did you mean 'server'?",
        f"{path}:4: server.port: expects an integer (got 'eighty')",
        f"{path}:5: server: unknown key 'treads'; did you mean 'threads'?",
        f"{path}:8: amqp: unknown key 'pasword_env'; did you mean 'password_env'?",
        f"{path}:10: datasources.orders: needs a url (or the environment variable EIP_DATASOURCE_ORDERS_URL)",
        f"{path}:11: datasources.orders.password_env: the environment variable MISSING_DB_PW is not set",
        f"{path}:13: logging.level: expects one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got 'loud')",
        (f"{path}:14: shutdown_timeout: not a duration: 'soon' (use seconds, or a suffix: 500ms, 2s, 5m, 1h) "
         "(got 'soon')"),
    ]
    message = str(caught.value)
    assert message.startswith(f"{path}: {len(problems)} problems:\n")
    for problem in problems:
        assert f"  - {problem}" in message


@pytest.mark.parametrize(("text", "suggestion"), [
    ("amqp:\n  url: amqp://app@h/\n  pasword_env: PW\n", "did you mean 'password_env'?"),
    ("amqp:\n  url: amqp://app@h/\n  password_fiel: /run/pw\n", "did you mean 'password_file'?"),
    ("datasources:\n  x:\n    url: sqlite://\n    pasword_file: pw.txt\n", "did you mean 'password_file'?"),
    ("amqp:\n  pasword: x\n", "did you mean 'password'?"),
])
def test_a_misspelt_secret_source_suggests_the_secret_source(tmp_path, text, suggestion):
    with pytest.raises(ConfigFileError, match=suggestion.replace("?", r"\?")):
        load_config(write(tmp_path, text), environ={})


def test_a_problem_from_the_environment_names_the_variable_not_a_line(tmp_path):
    path = write(tmp_path, "server:\n  host: 0.0.0.0\n  port: 1\n")
    with pytest.raises(ConfigFileError) as caught:
        load_config(path, environ={"EIP_SERVER_PORT": "eighty", "EIP_LOGGING_LEVEL": "loud"})
    assert caught.value.problems == [
        f"{path}: server.port (from EIP_SERVER_PORT): expects an integer (got 'eighty')",
        (f"{path}: logging.level (from EIP_LOGGING_LEVEL): expects one of DEBUG, INFO, WARNING, ERROR, "
         "CRITICAL (got 'loud')")]


def test_secret_problems_never_show_the_value_and_the_rest_is_still_checked(tmp_path):
    path = write(tmp_path, """\
        amqp: {url: 'amqp://rabbit/', password_env: AMQP_PW}
        auth:
          jwt: {secret: '${env:JWT}'}
        server: {port: 99999}
    """)
    with pytest.raises(ConfigFileError) as caught:
        load_config(path, environ={"AMQP_PW": "pw-never-shown"})
    text = str(caught.value)
    assert "pw-never-shown" not in text
    assert [p.split(": ", 2)[1] for p in caught.value.problems] == [
        "amqp.password", "auth.jwt.secret", "server.port"]
