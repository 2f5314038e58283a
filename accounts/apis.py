from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.login_throttle import lockout_minutes, login_is_locked_out
from accounts.services import api_token_create, api_token_revoke


class TokenObtainApi(APIView):
    """Exchange a username and password for a new API token (replacing any previous one)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=4096, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    class ErrorSerializer(serializers.Serializer):
        detail = serializers.CharField()

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, 400: ErrorSerializer, 401: ErrorSerializer, 429: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        username = data.validated_data["username"]
        if login_is_locked_out(username=username, request=request):
            return _locked_out()
        user = authenticate(request._request, username=username, password=data.validated_data["password"])
        if user is None or not user.is_active:
            if login_is_locked_out(username=username, request=request):
                return _locked_out()
            return Response({"detail": "Invalid username or password."}, status=status.HTTP_401_UNAUTHORIZED)
        token = api_token_create(user=user)
        return Response(self.OutputSerializer({"token": token.key}).data, status=status.HTTP_201_CREATED)


class TokenRevokeApi(APIView):
    """Revoke the caller's API token: requests that use it are refused from now on."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        api_token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _locked_out() -> Response:
    return Response(
        {"detail": f"Too many failed logins; try again in {lockout_minutes()} minutes."},
        status=status.HTTP_429_TOO_MANY_REQUESTS,
    )
