"""`POST /api/sources/`: upload a data file; returns the data source with its profile."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from mappings.models import DataSource
from mappings.profiling.profile import ProfileError
from mappings.selectors import require_data_manager
from mappings.services.sources import data_source_upload
from mappings.services.upload import UploadRejected


class DataSourceOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = DataSource
        fields = [
            "id", "name", "upload_date", "domain", "status", "sha256", "size_bytes", "rows", "file_format",
            "dialect", "profile", "error",
        ]  # fmt: skip


class SourceUploadApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema_serializer(component_name="SourceUploadInput")
    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        name = serializers.CharField(required=False, allow_blank=True, max_length=255)
        domain = serializers.CharField(required=False, allow_blank=True, max_length=64)

    @extend_schema_serializer(component_name="SourceUploadOutput")
    class OutputSerializer(DataSourceOutputSerializer):
        duplicate = serializers.BooleanField()
        duplicate_of = serializers.IntegerField(allow_null=True)
        detail = serializers.CharField()

        class Meta(DataSourceOutputSerializer.Meta):
            fields = [*DataSourceOutputSerializer.Meta.fields, "duplicate", "duplicate_of", "detail"]

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request):
        require_data_manager(request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        try:
            result = data_source_upload(
                file=upload,
                name=data.validated_data.get("name") or upload.name,
                user=request.user,
                domain=data.validated_data.get("domain", ""),
            )
        except (UploadRejected, ProfileError) as exc:
            raise ValidationError({"file": [str(exc)]}) from exc
        source = result.source
        payload = {
            **DataSourceOutputSerializer(source).data,
            "duplicate": result.duplicate,
            "duplicate_of": source.pk if result.duplicate else None,
            "detail": result.message,
        }
        return Response(payload, status=status.HTTP_200_OK if result.duplicate else status.HTTP_201_CREATED)
