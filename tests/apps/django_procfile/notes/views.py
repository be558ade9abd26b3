from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .models import Note


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "text"]


class NoteViewSet(viewsets.ModelViewSet):
    """Notes."""

    queryset = Note.objects.all().order_by("id")
    serializer_class = NoteSerializer
    authentication_classes = []
    permission_classes = []

    @action(detail=False)
    def recent(self, request):
        """The last note."""
        last = self.get_queryset().last()
        return Response(NoteSerializer(last).data if last else None)

    @action(detail=True, methods=["post"], url_path="shout")
    def loud(self, request, pk=None):
        """A note in capitals."""
        note = self.get_object()
        return Response({"id": note.id, "text": note.text.upper()})
