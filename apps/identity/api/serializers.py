from rest_framework import serializers

from apps.identity.models import Identifier, Link, Merge, Profile


class IdentifierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Identifier
        fields = ["type", "value", "source", "first_seen"]


class LinkSerializer(serializers.ModelSerializer):
    a = serializers.CharField(source="a.__str__", read_only=True)
    b = serializers.CharField(source="b.__str__", read_only=True)
    decided_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Link
        fields = [
            "id",
            "a",
            "b",
            "kind",
            "status",
            "confidence",
            "rule",
            "source",
            "event_ref",
            "observed_at",
            "reason",
            "decided_at",
            "decided_by",
        ]


class MergeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Merge
        fields = ["id", "winner", "loser", "link", "identifiers", "at", "undone_at", "undone_by"]


class ProfileSerializer(serializers.ModelSerializer):
    identifiers = IdentifierSerializer(many=True, read_only=True)

    class Meta:
        model = Profile
        fields = [
            "id",
            "state",
            "identifiers",
            "first_touch",
            "last_touch",
            "merged_into",
            "created_at",
            "updated_at",
        ]


class ProfileDetailSerializer(ProfileSerializer):
    links = serializers.SerializerMethodField()
    merges = serializers.SerializerMethodField()

    class Meta(ProfileSerializer.Meta):
        fields = [*ProfileSerializer.Meta.fields, "links", "merges"]

    def get_links(self, obj) -> LinkSerializer(many=True):
        from apps.identity.selectors import profile_links

        return LinkSerializer(profile_links(obj)[:100], many=True).data

    def get_merges(self, obj) -> MergeSerializer(many=True):
        from apps.identity.selectors import profile_merges

        return MergeSerializer(profile_merges(obj), many=True).data


class MergeRequestSerializer(serializers.Serializer):
    other = serializers.IntegerField(min_value=1, help_text="The profile to merge with.")
    note = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class UnmergeSerializer(serializers.Serializer):
    merge = serializers.IntegerField(min_value=1, help_text="The merge to undo.")


class ReviewSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
