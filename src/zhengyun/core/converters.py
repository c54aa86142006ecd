"""Path converters of the console's URLs."""


class IdConverter:
    """A database id in a path: a positive integer that fits a 64-bit column. A longer
    number names no object, so it is no match (404) rather than an overflow in the
    database driver (a 500)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)
