"""Own `FakeIdentityProvider`: an OpenID Connect provider on loopback, for signing in for real.

It implements what Streamlit's ``st.login`` (Authlib's Starlette client) calls:

- ``GET /.well-known/openid-configuration``: issuer, endpoints, RS256, PKCE S256;
- ``GET /authorize``: signs in ``next_user`` at once (no login form) and redirects back to the
  ``redirect_uri`` with a one-time code and the client's ``state``;
- ``POST /token``: the code exchanged for an RS256-signed ID token carrying the user's claims
  (``email``, ``email_verified``, ``groups``, ``name``) and the client's ``nonce``;
- ``GET /jwks``: the public key that verifies it.

Example::

    with FakeIdentityProvider() as idp:
        idp.next_user = {"email": "ana@example.org", "groups": ["finance"]}
        # [auth] server_metadata_url = idp.metadata_url, client_id = idp.client_id, ...
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlencode

from ._http import Exchange, LoopbackServer


class FakeIdentityProvider(LoopbackServer):
    """An OIDC provider that signs in whoever ``next_user`` names."""

    client_id = "groundwork-test"
    client_secret = "idp-client-secret-for-tests"

    def __init__(self) -> None:
        super().__init__()
        from joserfc.jwk import RSAKey

        self.key = RSAKey.generate_key(2048, parameters={"kid": "test", "use": "sig"})
        self.next_user: dict[str, Any] = {"email": "someone@example.org"}
        self._codes: dict[str, dict[str, Any]] = {}

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def _handle(self, ex: Exchange) -> None:
        routes = {
            "/.well-known/openid-configuration": self._metadata,
            "/authorize": self._authorize,
            "/token": self._token,
            "/jwks": self._jwks,
        }
        route = routes.get(ex.path)
        if route is None:
            ex.send_json(404, {"error": "not_found"})
        else:
            route(ex)

    def _metadata(self, ex: Exchange) -> None:
        ex.send_json(
            200,
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["openid", "email", "profile"],
            },
        )

    def _authorize(self, ex: Exchange) -> None:
        query = {k: v[0] for k, v in ex.query.items()}
        code = secrets.token_urlsafe(16)
        self._codes[code] = {"user": dict(self.next_user), "nonce": query.get("nonce")}
        target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        handler = ex.handler
        handler.send_response(302)
        handler.send_header("Location", target)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def _token(self, ex: Exchange) -> None:
        from joserfc import jwt

        form = {k: v[0] for k, v in parse_qs(ex.body.decode()).items()}
        grant = self._codes.pop(form.get("code", ""), None)
        if grant is None:
            ex.send_json(400, {"error": "invalid_grant"})
            return
        user, now = grant["user"], int(time.time())
        claims = {
            "iss": self.url,
            "aud": self.client_id,
            "sub": user["email"],
            "iat": now,
            "exp": now + 3600,
            "email_verified": True,
            **user,
        }
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        token = jwt.encode({"alg": "RS256", "kid": "test"}, claims, self.key)
        ex.send_json(
            200,
            {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
             "expires_in": 3600, "id_token": token},
        )  # fmt: skip

    def _jwks(self, ex: Exchange) -> None:
        ex.send_json(200, {"keys": [self.key.as_dict(private=False) | {"alg": "RS256"}]})
