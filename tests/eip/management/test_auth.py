"""Authentication and roles of the management API: JWTs, API keys, refusals, secrets kept secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from management_support import (
    AUDIENCE,
    ISSUER,
    OPERATOR,
    OPERATOR_KEY,
    SECRET,
    VIEWER,
    VIEWER_KEY,
    auth_config,
    bearer,
    make_token,
)

from eip import ConfigurationError, RouteBuilder
from eip.management.auth import Authenticator, AuthError


class Orders(RouteBuilder):
    def configure(self) -> None:
        self.from_("direct:orders").route_id("orders").to("mock:out")


@pytest.fixture
def client(engine, management):
    engine.add_routes(Orders())
    engine.start()
    return management()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def assert_401(response, error: str | None = "invalid_token") -> dict:
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="eip-management"')
    if error:
        assert f'error="{error}"' in challenge
    assert response.mimetype == "application/json"
    data = response.get_json()
    assert data["error"] == "unauthorized"
    return data


# -- no or unknown credentials ------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/routes"), ("GET", "/api/routes/orders"), ("GET", "/api/endpoints"),
    ("POST", "/api/routes/orders/stop"), ("GET", "/api/routes/nope"), ("GET", "/api/whatever"),
    ("GET", "/api"),
])
def test_no_token_is_401_with_a_bearer_challenge(client, engine, method, path):
    data = assert_401(client.open(path, method=method), error=None)
    assert "Authorization: Bearer" in data["message"]
    assert engine.route("orders").state == "started"


def test_unknown_api_key_is_401(client):
    assert "unknown API key" in assert_401(client.get("/api/routes", headers={"X-API-Key": "nope"}))["message"]
    assert_401(client.get("/api/routes", headers=bearer("not-a-key-nor-a-jwt")))
    assert_401(client.get("/api/routes", headers={"Authorization": f"Basic {VIEWER_KEY}"}), error=None)


def test_api_keys_work_as_header_or_bearer(client):
    assert client.get("/api/routes", headers={"X-API-Key": VIEWER_KEY}).status_code == 200
    assert client.get("/api/routes", headers=bearer(VIEWER_KEY)).status_code == 200
    assert client.get("/api/routes", headers=bearer(OPERATOR_KEY)).status_code == 200


def test_no_credentials_configured_refuses_every_api_call_but_health_and_metrics_answer(engine, management):
    engine.add_routes(Orders())
    engine.start()
    client = management({})
    data = assert_401(client.get("/api/routes", headers=bearer(make_token(["operator"]))), error=None)
    assert "no credentials are configured" in data["message"]
    assert_401(client.post("/api/routes/orders/stop", headers=OPERATOR), error=None)
    assert client.get("/health/live").status_code == 200
    assert client.get("/health/ready").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert engine.route("orders").state == "started"


# -- JWT refusals ---------------------------------------------------------------------------------
def test_valid_jwt_reads(client):
    response = client.get("/api/routes", headers=bearer(make_token(["viewer"])))
    assert response.status_code == 200
    assert [r["id"] for r in response.get_json()["routes"]] == ["orders"]


def test_expired_token_is_401(client):
    token = make_token(["operator"], expires_in=-60)
    assert "expired" in assert_401(client.get("/api/routes", headers=bearer(token)))["message"]


def test_leeway_accepts_a_token_just_expired(engine, management):
    engine.start()
    client = management(auth_config(leeway=120))
    assert client.get("/api/routes", headers=bearer(make_token(expires_in=-60))).status_code == 200


def test_token_without_exp_is_401(client):
    token = jwt.encode({"sub": "a", "iss": ISSUER, "aud": AUDIENCE, "roles": ["viewer"]}, SECRET, algorithm="HS256")
    assert "'exp'" in assert_401(client.get("/api/routes", headers=bearer(token)))["message"]


def test_tampered_payload_is_401(client, engine):
    header, payload, signature = make_token(["viewer"]).split(".")
    claims = json.loads(_unb64(payload))
    claims["roles"] = ["operator"]
    forged = ".".join([header, _b64(json.dumps(claims).encode()), signature])
    assert_401(client.post("/api/routes/orders/stop", headers=bearer(forged)))
    assert engine.route("orders").state == "started"


def test_tampered_signature_and_other_secret_are_401(client):
    token = make_token(["viewer"])
    flipped = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert_401(client.get("/api/routes", headers=bearer(flipped)))
    other = make_token(["viewer"], key="another-secret-of-decent-length-0123456789")
    assert "invalid" in assert_401(client.get("/api/routes", headers=bearer(other)))["message"]


def test_alg_none_is_401(client):
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps({"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "roles": ["operator"],
                               "exp": int(time.time()) + 60}).encode())
    assert_401(client.get("/api/routes", headers=bearer(f"{header}.{payload}.")))


@pytest.mark.parametrize(("claims", "word"), [
    ({"iss": "https://evil.example/"}, "issuer"),
    ({"aud": "another-service"}, "audience"),
    ({"iss": None}, "'iss'"),
    ({"aud": None}, "'aud'"),
])
def test_wrong_or_missing_issuer_and_audience_are_401(client, claims, word):
    token = make_token(["viewer"], **claims)
    assert word in assert_401(client.get("/api/routes", headers=bearer(token)))["message"]


def test_token_not_yet_valid_is_401(client):
    assert_401(client.get("/api/routes", headers=bearer(make_token(nbf=int(time.time()) + 600))))


# -- roles ----------------------------------------------------------------------------------------------
def test_wrong_role_is_403(client, engine):
    for headers in (bearer(make_token([])), bearer(make_token(["admin", "auditor"])), bearer(make_token(None))):
        response = client.get("/api/routes", headers=headers)
        assert response.status_code == 403
        assert response.get_json() == {"error": "forbidden", "message": "this needs the role 'viewer'"}
        assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    for headers in (VIEWER, bearer(make_token(["viewer"]))):
        response = client.post("/api/routes/orders/stop", headers=headers)
        assert response.status_code == 403
        assert "operator" in response.get_json()["message"]
    assert engine.route("orders").state == "started"


def test_operator_may_read_too(client):
    assert client.get("/api/routes", headers=bearer(make_token(["operator"]))).status_code == 200
    assert client.get("/api/endpoints", headers=OPERATOR).status_code == 200


def test_roles_claim_is_configurable_nested_and_may_be_a_string(engine, management):
    engine.add_routes(Orders())
    engine.start()
    client = management(auth_config(roles_claim="realm_access.roles"))
    nested = make_token(None, realm_access={"roles": ["operator"]})
    assert client.post("/api/routes/orders/stop", headers=bearer(nested)).status_code == 200
    top_level_only = make_token(["operator"])
    assert client.get("/api/routes", headers=bearer(top_level_only)).status_code == 403

    client = management(auth_config(roles_claim="scope"))
    assert client.post("/api/routes/orders/start", headers=bearer(make_token(None, scope="openid operator"))
                       ).status_code == 200


# -- public keys -----------------------------------------------------------------------------------------
def _pem(private_key) -> str:
    return private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def test_es256_public_key(engine, management):
    engine.start()
    key = ec.generate_private_key(ec.SECP256R1())
    client = management({"auth": {"jwt": {"public_key": _pem(key), "algorithms": ["ES256"],
                                          "issuer": ISSUER, "audience": AUDIENCE}}})
    assert client.get("/api/routes", headers=bearer(make_token(key=key, algorithm="ES256"))).status_code == 200
    other = ec.generate_private_key(ec.SECP256R1())
    assert_401(client.get("/api/routes", headers=bearer(make_token(key=other, algorithm="ES256"))))
    # Algorithm confusion: an HS256 token whose HMAC key is the (public) PEM must not pass.
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps({"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "roles": ["operator"],
                               "exp": int(time.time()) + 60}).encode())
    signature = _b64(hmac.new(_pem(key).encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest())
    assert_401(client.get("/api/routes", headers=bearer(f"{header}.{payload}.{signature}")))


def test_rs256_public_key_from_a_file(engine, management, tmp_path):
    engine.start()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "jwt.pem"
    path.write_text(_pem(key))
    client = management({"auth": {"jwt": {"public_key_file": str(path), "issuer": ISSUER, "audience": AUDIENCE}}})
    assert client.get("/api/routes", headers=bearer(make_token(key=key, algorithm="RS256"))).status_code == 200
    assert_401(client.get("/api/routes", headers=bearer(make_token())))  # HS256 with the secret: refused


# -- secrets from the environment and files, never shown --------------------------------------------
def test_secrets_from_env_and_file(engine, management, monkeypatch, tmp_path):
    engine.start()
    monkeypatch.setenv("TEST_EIP_JWT_SECRET", SECRET)
    monkeypatch.setenv("TEST_EIP_OPS_KEY", OPERATOR_KEY)
    key_file = tmp_path / "viewer.key"
    key_file.write_text(VIEWER_KEY + "\n")
    client = management({"auth": {
        "jwt": {"secret_env": "TEST_EIP_JWT_SECRET", "issuer": ISSUER, "audience": AUDIENCE},
        "api_keys": [{"key_env": "TEST_EIP_OPS_KEY", "roles": "operator"},
                     {"key_file": str(key_file), "roles": ["viewer"]}]}})
    assert client.get("/api/routes", headers=bearer(make_token())).status_code == 200
    assert client.get("/api/routes", headers=OPERATOR).status_code == 200
    assert client.get("/api/routes", headers=VIEWER).status_code == 200


def test_missing_secret_reference_names_the_variable_not_a_value(monkeypatch):
    monkeypatch.delenv("TEST_EIP_NOT_SET", raising=False)
    with pytest.raises(ConfigurationError, match="TEST_EIP_NOT_SET.*not set"):
        Authenticator({"api_keys": [{"key_env": "TEST_EIP_NOT_SET", "roles": ["viewer"]}]})
    with pytest.raises(ConfigurationError, match="cannot read key_file"):
        Authenticator({"api_keys": [{"key_file": "/nonexistent/eip.key", "roles": ["viewer"]}]})


def test_secrets_never_logged_nor_returned(engine, management, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    engine.add_routes(Orders())
    engine.start()
    client = management()
    bodies = []
    for headers in ({}, VIEWER, OPERATOR, bearer(make_token(["operator"])), bearer(make_token(expires_in=-5)),
                    {"X-API-Key": VIEWER_KEY + "x"}, bearer(make_token(key="wrong-secret-but-long-enough-0123456789"))):
        for method, path in (("GET", "/api/routes"), ("POST", "/api/routes/orders/stop"),
                             ("POST", "/api/routes/orders/start"), ("GET", "/api/endpoints")):
            response = client.open(path, method=method, headers=headers)
            bodies.append(response.get_data(as_text=True) + str(response.headers))
    everything = caplog.text + "".join(bodies) + repr(client.application.auth)
    for secret in (SECRET, VIEWER_KEY, OPERATOR_KEY):
        assert secret not in everything
    assert "stop route 'orders' (started -> stopped) by api_key 'ops'" in caplog.text
    assert "by jwt 'alice'" in caplog.text


# -- configuration mistakes ------------------------------------------------------------------------------
@pytest.mark.parametrize(("section", "message"), [
    ({"jwt": {"secret": SECRET}, "apikeys": []}, "unknown key.*apikeys"),
    ({"jwt": {"secret": SECRET, "isuer": ISSUER}}, "unknown key.*isuer"),
    ({"jwt": {"issuer": ISSUER}}, "either a secret.*or a public_key"),
    ({"jwt": {"secret": SECRET, "public_key": "x"}}, "either a secret"),
    ({"jwt": {"secret": SECRET, "secret_env": "X"}}, "only one of secret, secret_env"),
    ({"jwt": {"secret": SECRET, "algorithms": ["RS256"]}}, "RS256 cannot be used with a secret"),
    ({"jwt": {"secret": SECRET, "algorithms": ["none"]}}, "none cannot be used"),
    ({"jwt": {"public_key": "not a pem"}}, "not a PEM public key"),
    ({"api_keys": [{"key": VIEWER_KEY}]}, "give its roles"),
    ({"api_keys": [{"key": VIEWER_KEY, "roles": ["admin"]}]}, "unknown role.*admin"),
    ({"api_keys": [{"roles": ["viewer"]}]}, "needs one of key, key_file, key_env"),
    ({"api_keys": [{"key": VIEWER_KEY, "roles": ["viewer"]}, {"key": VIEWER_KEY, "roles": ["operator"]}]},
     "configured twice"),
    ({"api_keys": {"key": VIEWER_KEY}}, "must be a list"),
])
def test_config_mistakes_are_configuration_errors(section, message):
    with pytest.raises(ConfigurationError, match=message) as info:
        Authenticator(section)
    assert SECRET not in str(info.value) and VIEWER_KEY not in str(info.value)


def test_missing_issuer_or_audience_is_warned(caplog):
    Authenticator({"jwt": {"secret": SECRET}})
    assert "no issuer and audience configured" in caplog.text


def test_authenticator_api_directly():
    auth = Authenticator(auth_config()["auth"])
    principal = auth.authenticate({"Authorization": f"Bearer {make_token(['operator', 'viewer'])}"})
    assert principal.name == "alice" and principal.roles == {"operator", "viewer"} and principal.method == "jwt"
    assert principal.may("viewer") and principal.may("operator")
    viewer = auth.authenticate({"X-API-Key": VIEWER_KEY})
    assert viewer.name == "dashboard" and viewer.may("viewer") and not viewer.may("operator")
    with pytest.raises(AuthError) as info:
        auth.authorize({"X-API-Key": VIEWER_KEY}, "operator")
    assert info.value.status == 403


# -- metrics protection ------------------------------------------------------------------------------------
def test_metrics_open_unless_protected(engine, management):
    engine.start()
    assert management().get("/metrics").status_code == 200
    config = auth_config()
    config["management"] = {"metrics_require_auth": True}
    client = management(config)
    assert_401(client.get("/metrics"), error=None)
    assert client.get("/metrics", headers=bearer(make_token([]))).status_code == 403
    assert client.get("/metrics", headers=VIEWER).status_code == 200
    assert client.get("/health/ready").status_code == 200


def test_management_config_mistakes(engine):
    from eip.management import create_app

    with pytest.raises(ConfigurationError, match="unknown key.*metrics_auth"):
        create_app(engine, {"management": {"metrics_auth": True}})
    with pytest.raises(ConfigurationError, match="metrics_require_auth must be true or false"):
        create_app(engine, {"management": {"metrics_require_auth": "maybe"}})
    with pytest.raises(ConfigurationError, match="must be a mapping"):
        create_app(engine, ["auth"])
    app = create_app(engine, {"management": {"metrics_require_auth": "true"}, "server": {"port": 0}})
    app.close()
    assert app.metrics_require_auth is True
