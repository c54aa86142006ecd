from rest_framework import serializers

from zhengyun.jobs.models import JobRun


class JobRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobRun
        fields = ["id", "task", "request_id", "status", "started_at", "finished_at", "result"]
