"""Views and classes about signing in, beside SimpleJWT's own."""
import threading

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenRefreshView

login_attempts = 0
login_lock = threading.Lock()


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(write_only=True)
    password = serializers.CharField(write_only=True)
    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(read_only=True)


class LoginView(APIView):
    """A project's own login: AllowAny under the default JWT authentication,
    so DRF checks a bearer it gets before the view runs. A wrong password is
    a 401 from the view itself; each request that reaches the view counts."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(request=LoginSerializer, responses={200: LoginSerializer})
    def post(self, request):
        global login_attempts
        with login_lock:
            login_attempts += 1
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(username=data.validated_data["username"], password=data.validated_data["password"])
        if user is None:
            raise exceptions.AuthenticationFailed("No active account found with the given credentials")
        refresh = RefreshToken.for_user(user)
        return Response({"access": str(refresh.access_token), "refresh": str(refresh)})


class LoginAttemptsView(APIView):
    """How many requests reached LoginView, for tests; not in the spec."""

    authentication_classes = []
    permission_classes = []

    @extend_schema(exclude=True)
    def get(self, request):
        with login_lock:
            return Response({"login_attempts": login_attempts})


class CustomTokenRefreshSerializer(TokenRefreshSerializer):
    """A project's own refresh serializer: drf-spectacular names its schemas
    CustomTokenRefresh and CustomTokenRefreshRequest."""


class CustomTokenRefreshView(TokenRefreshView):
    serializer_class = CustomTokenRefreshSerializer
