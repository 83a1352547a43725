"""Portainer versions the simulator can emulate and the behaviour switches they imply."""

SUPPORTED = ('2.19.0', '2.19.1', '2.19.4', '2.20.0', '2.20.3', '2.21.0', '2.21.4', '2.22.0', '2.23.0')


def parse(version):
    """Return a comparable tuple for a dotted version string."""
    parts = []
    for piece in version.split('.'):
        digits = ''.join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    while len(parts) < 3:
        parts.append(0)
    return tuple(parts[:3])


class Version:
    """Feature switches derived from an emulated Portainer version (contract sections 1-6)."""

    def __init__(self, version):
        self.string = version
        self.tuple = parse(version)

    def at_least(self, version):
        """True when the emulated version is >= version."""
        return self.tuple >= parse(version)

    @property
    def legacy_stack_create(self):
        """POST /api/stacks?type&method: removed in 2.19.0, restored in 2.19.1 (6.3)."""
        return self.tuple != (2, 19, 0)

    @property
    def auth_cookie(self):
        """Login sets the portainer_api_key cookie, which is accepted as a credential (2.20+)."""
        return self.at_least('2.20.0')

    @property
    def csrf(self):
        """gorilla/csrf wrapping of the whole server (2.20+)."""
        return self.at_least('2.20.0')

    @property
    def token_password(self):
        """POST /api/users/{id}/tokens requires the current password (2.20+)."""
        return self.at_least('2.20.0')

    @property
    def logout_public(self):
        """Logout is a public route that only reads the cookie (2.20+)."""
        return self.at_least('2.20.0')

    @property
    def jwt_revocation(self):
        """Logout revokes the token's jti; without a valid cookie it panics (2.21.4 / 2.22.0+)."""
        return self.at_least('2.22.0') or (2, 21, 4) <= self.tuple < (2, 22, 0)

    @property
    def container_engine_field(self):
        """Endpoint create accepts ContainerEngine (2.22+)."""
        return self.at_least('2.22.0')

    @property
    def batch_endpoint_delete(self):
        """DELETE /api/endpoints with a JSON body (2.21+)."""
        return self.at_least('2.21.0')

    @property
    def normalized_name_message(self):
        """409 text 'A stack with the normalized name ...' (2.20+)."""
        return self.at_least('2.20.0')

    @property
    def token_content_type_json(self):
        """Token creation response carries Content-Type application/json (2.20+; unverified before)."""
        return self.at_least('2.20.0')
