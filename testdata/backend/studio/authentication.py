"""An authentication class of the project's own.

DRF imports it from its settings, before its views load: it imports nothing
of them."""
from rest_framework_simplejwt.authentication import JWTAuthentication


class StudioJWTAuthentication(JWTAuthentication):
    """SimpleJWT's authentication under a name drf-spectacular does not know:
    the spec then declares no security scheme at all."""
