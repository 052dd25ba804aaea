"""A small Django REST Framework + SimpleJWT backend shaped like AISquare Studio's.

Run with Debian's /usr/bin/python3:
  server.py schema FILE   write the OpenAPI spec drf-spectacular renders
  server.py serve         serve on 127.0.0.1:$PORT with a fresh sqlite
                          database at $DB_PATH and uploads under $MEDIA_ROOT;
                          prints "ready" once it accepts connections
The user alice (password alice-password) owns 5 projects and 3 runs.

$VARIANT changes the backend as other teams' backends differ from this one
(unset: the backend of testdata/backend/openapi.yaml):
  moved    SimpleJWT's views under /api/v1/auth/ (refresh at
           /api/v1/auth/refresh/), and a server of the spec's own, at
           http://localhost:3000/, described as "Production"
  jwt      SimpleJWT's AUTH_HEADER_TYPES = ('JWT',), and one schema for
           request and response (no COMPONENT_SPLIT_REQUEST)
  unknown  SimpleJWT's authentication under a class drf-spectacular does not
           know: the spec has no securitySchemes
  custom   a refresh serializer of the project's own at
           /api/v1/token/refresh/, and SimpleJWT's at /api/v1/auth/jwt/refresh/;
           DRF's default parsers, so every view takes form and multipart
           bodies too
  none     no refresh view: a login taking {username, password} at
           /api/v1/token/refresh/
  nested   runs nested under projects at /api/v1/projects/{id}/runs/{id}/
"""
import os
import sys
import tempfile
from datetime import timedelta

import django
from django.conf import settings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

VARIANT = os.environ.get("VARIANT", "")
if VARIANT not in ("", "moved", "jwt", "unknown", "custom", "none", "nested"):
    sys.exit(f"unknown VARIANT {VARIANT!r}")

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    SECRET_KEY="test-only-secret-key-for-the-regeneration-suite",
    ROOT_URLCONF=__name__,
    APPEND_SLASH=True,
    MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "rest_framework",
        "rest_framework_simplejwt.token_blacklist",
        "django_filters",
        "drf_spectacular",
        "studio",
    ],
    DATABASES={"default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DB_PATH") or os.path.join(tempfile.mkdtemp(), "db.sqlite3"),
    }},
    MEDIA_ROOT=os.environ.get("MEDIA_ROOT") or tempfile.mkdtemp(),
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    USE_TZ=True,
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "studio.authentication.StudioJWTAuthentication" if VARIANT == "unknown"
            else "rest_framework_simplejwt.authentication.JWTAuthentication",
        ],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        # DRF's default parsers in "custom": the spec then documents form and
        # multipart bodies for every view, the refresh view's included.
        "DEFAULT_PARSER_CLASSES": [
            "rest_framework.parsers.JSONParser",
        ] + (["rest_framework.parsers.FormParser", "rest_framework.parsers.MultiPartParser"] if VARIANT == "custom" else []),
        "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
        "PAGE_SIZE": 2,
        "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
        "UNAUTHENTICATED_USER": None,
    },
    SIMPLE_JWT={
        "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
        "REFRESH_TOKEN_LIFETIME": timedelta(days=30),
        "AUTH_HEADER_TYPES": ("JWT",) if VARIANT == "jwt" else ("Bearer",),
    },
    SPECTACULAR_SETTINGS={
        "TITLE": "AISquare Studio API",
        "VERSION": "1.0.0",
        "COMPONENT_SPLIT_REQUEST": VARIANT != "jwt",
        "SERVE_INCLUDE_SCHEMA": False,
        "SERVERS": [{"url": "http://localhost:3000/", "description": "Production"}] if VARIANT == "moved" else [],
    },
)
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.urls import include, path  # noqa: E402
from rest_framework.routers import SimpleRouter  # noqa: E402
from rest_framework_simplejwt.views import (  # noqa: E402
    TokenBlacklistView,
    TokenObtainPairView,
    TokenRefreshView,
    TokenVerifyView,
)

from studio.api import HealthView, MeView, ProjectRunView, ProjectViewSet, RunViewSet  # noqa: E402
from studio.auth import CustomTokenRefreshView, LoginAttemptsView, LoginView  # noqa: E402
from studio.models import Project, Run  # noqa: E402

router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="project")
router.register("runs", RunViewSet, basename="run")

token = "api/v1/auth/" if VARIANT == "moved" else "api/v1/token/"
refresh = {
    "": TokenRefreshView, "moved": TokenRefreshView, "jwt": TokenRefreshView, "unknown": TokenRefreshView,
    "custom": CustomTokenRefreshView, "none": LoginView, "nested": TokenRefreshView,
}[VARIANT]
urlpatterns = [
    path(token + ("token/" if VARIANT == "moved" else ""), TokenObtainPairView.as_view()),
    path(token + "refresh/", refresh.as_view()),
    path(token + "verify/", TokenVerifyView.as_view()),
    path(token + "blacklist/", TokenBlacklistView.as_view()),
    path("api/v1/auth/login/", LoginView.as_view()),
    path("api/v1/health/", HealthView.as_view()),
    path("api/v1/me/", MeView.as_view()),
    path("api/v1/", include(router.urls)),
    path("api/v1/test/login-attempts/", LoginAttemptsView.as_view()),
]
if VARIANT == "custom":
    urlpatterns.append(path("api/v1/auth/jwt/refresh/", TokenRefreshView.as_view()))
if VARIANT == "nested":
    # drf-spectacular renders the pk of a nested route as {id} too
    # (SCHEMA_COERCE_PATH_PK), as nested routers' specs have it.
    urlpatterns.append(path("api/v1/projects/<int:id>/runs/<uuid:pk>/", ProjectRunView.as_view()))


def seed():
    call_command("migrate", verbosity=0, interactive=False, run_syncdb=True)
    alice = User.objects.create_user("alice", email="alice@example.com", password="alice-password")
    projects = [Project.objects.create(owner=alice, name=f"project {i}") for i in range(1, 6)]
    projects[0].description = "the first one"
    projects[0].save()
    for st, score in (("succeeded", 0.9), ("failed", None), ("timeout", None)):
        Run.objects.create(project=projects[0], status=st, score=score)


def serve():
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
    from socketserver import ThreadingMixIn

    from django.core.wsgi import get_wsgi_application

    seed()

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    class ThreadingServer(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    server = make_server("127.0.0.1", int(os.environ["PORT"]), get_wsgi_application(),
                         server_class=ThreadingServer, handler_class=QuietHandler)
    print("ready", flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    if sys.argv[1:2] == ["schema"] and len(sys.argv) == 3:
        call_command("spectacular", file=sys.argv[2], validate=True)
    elif sys.argv[1:] == ["serve"]:
        serve()
    else:
        sys.exit(__doc__)
