"""Serializers and views of the API."""
from django.contrib.auth.models import User
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, mixins, parsers, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Artifact, Project, Run


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "description", "visibility", "created_at"]
        read_only_fields = ["id", "created_at"]


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = Run
        fields = ["id", "project", "status", "score", "created_at", "finished_at"]
        read_only_fields = ["id", "status", "score", "created_at", "finished_at"]


class ArtifactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Artifact
        fields = ["id", "name", "file", "size", "created_at"]
        read_only_fields = ["id", "size", "created_at"]


class MeSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email"]
        read_only_fields = fields


class ProjectViewSet(viewsets.ModelViewSet):
    serializer_class = ProjectSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return Project.objects.filter(owner=self.request.user)

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)


class RunViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = RunSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_fields = ["status"]
    ordering_fields = ["created_at", "score"]

    def get_queryset(self):
        return Run.objects.filter(project__owner=self.request.user)

    @extend_schema(responses={201: ArtifactSerializer})
    @action(detail=True, methods=["post"], serializer_class=ArtifactSerializer,
            parser_classes=[parsers.MultiPartParser])
    def artifacts(self, request, pk=None):
        run = self.get_object()
        serializer = ArtifactSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        serializer.save(run=run, size=upload.size)
        return Response(serializer.data, status=status.HTTP_201_CREATED)


class ProjectRunView(generics.RetrieveAPIView):
    """A run of a project: a nested route."""

    serializer_class = RunSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return Run.objects.filter(project__owner=self.request.user, project_id=self.kwargs["id"])


class HealthView(APIView):
    """AllowAny under the default JWT authentication."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: inline_serializer("Health", {"status": serializers.CharField()})})
    def get(self, request):
        return Response({"status": "ok"})


class MeView(generics.RetrieveAPIView):
    serializer_class = MeSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_object(self):
        return self.request.user
