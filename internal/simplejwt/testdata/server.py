"""A minimal Django + SimpleJWT server with the AISquare Studio token routes.

Run with Debian's /usr/bin/python3. Settings come from the environment:
  PORT                     port to listen on (127.0.0.1)
  DB_PATH                  sqlite file (created; migrations run at start)
  ROTATE_REFRESH_TOKENS    "1" to rotate refresh tokens
  BLACKLIST_AFTER_ROTATION "1" to blacklist rotated refresh tokens
  ACCESS_LIFETIME_SECONDS  access token lifetime (default 300)
  THREADED                 "1" to serve requests on a thread each, as a
                           multi-worker deployment would
  REFRESH_PATH             the refresh view's path (default
                           /api/v1/token/refresh/): the generated client's
  AUTH_HEADER_TYPE         the word before the access token in
                           Authorization (default Bearer)
It prints "ready" on stdout once it accepts connections.

Besides SimpleJWT's own views it serves POST /api/v1/test/old-pair/
{"age_seconds": N}: a pair for alice as a login N seconds ago would have
issued it (iat and exp of both tokens N seconds earlier), for tests of
refresh tokens minutes old without waiting minutes.
"""
import os
import sys
import threading
from datetime import timedelta

import django
from django.conf import settings

rotate = os.environ.get("ROTATE_REFRESH_TOKENS") == "1"
blacklist = os.environ.get("BLACKLIST_AFTER_ROTATION") == "1"

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    SECRET_KEY="test-only-secret-key-for-the-conformance-suite",
    ROOT_URLCONF=__name__,
    APPEND_SLASH=True,
    MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "rest_framework",
        "rest_framework_simplejwt.token_blacklist",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["DB_PATH"]}},
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    USE_TZ=True,
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        # DRF's own default: JSON, forms and multipart forms, as a backend
        # that does not narrow it parses them.
        "DEFAULT_PARSER_CLASSES": [
            "rest_framework.parsers.JSONParser",
            "rest_framework.parsers.FormParser",
            "rest_framework.parsers.MultiPartParser",
        ],
        "UNAUTHENTICATED_USER": None,
    },
    SIMPLE_JWT={
        "ACCESS_TOKEN_LIFETIME": timedelta(seconds=int(os.environ.get("ACCESS_LIFETIME_SECONDS", "300"))),
        "REFRESH_TOKEN_LIFETIME": timedelta(days=30),
        "ROTATE_REFRESH_TOKENS": rotate,
        "BLACKLIST_AFTER_ROTATION": blacklist,
        "AUTH_HEADER_TYPES": (os.environ.get("AUTH_HEADER_TYPE") or "Bearer",),
    },
)
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.permissions import IsAuthenticated  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView  # noqa: E402


class Me(APIView):
    """A protected route, for tests of authenticated calls."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"user_id": request.user.id})


class OldPair(APIView):
    """A pair issued age_seconds ago, for tests."""

    authentication_classes = []
    permission_classes = []

    def post(self, request):
        age = timedelta(seconds=int(request.data.get("age_seconds", 0)))
        refresh = RefreshToken.for_user(User.objects.get(username="alice"))
        refresh.current_time = refresh.current_time - age
        refresh.set_iat(at_time=refresh.current_time)
        refresh.set_exp(from_time=refresh.current_time)
        return Response({"access": str(refresh.access_token), "refresh": str(refresh)})


refresh_requests = 0
refresh_lock = threading.Lock()


class CountingRefresh(TokenRefreshView):
    """SimpleJWT's refresh view, counting the requests it gets."""

    def post(self, request, *args, **kwargs):
        global refresh_requests
        with refresh_lock:
            refresh_requests += 1
        return super().post(request, *args, **kwargs)


class Stats(APIView):
    """How many refresh requests the server got, for tests."""

    authentication_classes = []
    permission_classes = []

    def get(self, request):
        with refresh_lock:
            return Response({"refresh_requests": refresh_requests})


urlpatterns = [
    path("api/v1/test/old-pair/", OldPair.as_view()),
    path("api/v1/token/", TokenObtainPairView.as_view()),
    path((os.environ.get("REFRESH_PATH") or "/api/v1/token/refresh/").lstrip("/"), CountingRefresh.as_view()),
    path("api/v1/me/", Me.as_view()),
    path("api/v1/test/stats/", Stats.as_view()),
]

if __name__ == "__main__":
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0, interactive=False)
    User.objects.create_user("alice", password="alice-password")

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server_class = WSGIServer
    if os.environ.get("THREADED") == "1":

        class ThreadingServer(ThreadingMixIn, WSGIServer):
            daemon_threads = True
            request_queue_size = 128

        server_class = ThreadingServer
    server = make_server(
        "127.0.0.1", int(os.environ["PORT"]), get_wsgi_application(),
        server_class=server_class, handler_class=QuietHandler,
    )
    print("ready", flush=True)
    sys.stdout.close()
    server.serve_forever()
