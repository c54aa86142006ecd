"""Path converters of the platform's URLs."""


class IdConverter:
    """A database id in a path: a positive integer that fits a 64-bit column. A longer
    number names no object, so it is no match (404) rather than an overflow in the
    database driver (a 500)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


class ResourceCodeConverter:
    """A catalog resource code in a path, slash included: 101001/000001."""

    regex = "[1-3][0-9]{5,11}/[0-9]{6}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value
