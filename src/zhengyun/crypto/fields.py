"""A model field whose values are stored encrypted (``envelope``): personal data such as
mobile numbers and resident ID numbers (GB/T 22239 level 3 数据保密性, R-X3)."""

from django import forms
from django.db import models

from zhengyun.crypto import envelope


class EncryptedTextField(models.TextField):
    """Text encrypted with SM4-GCM under a wrapped data key, bound to its model and field.

    Values cannot be searched or ordered in the database; ``max_length`` limits the
    plaintext. A value written before the field was encrypted is read as it is.
    """

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        self.context = f"{cls._meta.label_lower}.{name}"

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value or envelope.is_encrypted(value):
            return value
        return envelope.encrypt(value, self.context)

    def formfield(self, **kwargs):
        # Short values such as mobile numbers: a one-line input, not a text area.
        return super().formfield(**{"widget": forms.TextInput, **kwargs})

    def from_db_value(self, value, expression, connection):
        if not envelope.is_encrypted(value):
            return value
        return envelope.decrypt(value, self.context)
