"""A fast, salted SM3 hash for machine secrets — OIDC client secrets of 128 random
characters — checked on every token request.

Slow password hashing (argon2) protects what people choose and can be guessed; a random
secret of that length cannot be, so a keyed SM3 digest is enough and keeps the token
endpoint fast (the same reasoning as API tokens, decision 0006). People's passwords never
use it: argon2 stays first in ``PASSWORD_HASHERS``.
"""

import hmac

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.translation import gettext_noop as _


class MachineSecretHasher(BasePasswordHasher):
    algorithm = "zy_sm3_secret"

    def encode(self, password, salt):
        self._check_encode_args(password, salt)
        digest = hmac.new(salt.encode(), password.encode(), "sm3").hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded):
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password, encoded):
        decoded = self.decode(encoded)
        return hmac.compare_digest(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded):
        decoded = self.decode(encoded)
        return {
            _("algorithm"): decoded["algorithm"],
            _("salt"): mask_hash(decoded["salt"], show=2),
            _("hash"): mask_hash(decoded["hash"]),
        }

    def harden_runtime(self, password, encoded):
        pass  # nothing to equalise: there are no work factors
