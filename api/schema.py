"""OpenAPI details drf-spectacular cannot infer: the token security scheme and error answers."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

from api.serializers import ErrorSerializer


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.PersonalTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "fap_<prefix>_<secret>",
            "description": "A personal API token, made at /tokens/.",
        }


ERROR_DESCRIPTIONS = {
    400: "The request is invalid: field name → messages.",
    401: "No token, or an invalid, revoked or expired one.",
    403: "Not allowed (e.g. a shared list, for anyone but staff).",
    404: "No such object, or not yours.",
    409: "Not possible in the object's current state.",
    413: "An upload is over the size limit.",
    415: "Unsupported request media type.",
    429: "Too many requests; see Retry-After.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Error answers for `extend_schema(responses=...)`; 401 and 429 apply to every operation."""
    answers = {}
    for code in sorted({401, 429, *codes}):
        shape = OpenApiTypes.OBJECT if code == 400 else ErrorSerializer
        answers[code] = OpenApiResponse(shape, description=ERROR_DESCRIPTIONS[code])
    return answers
