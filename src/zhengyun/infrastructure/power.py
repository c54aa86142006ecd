"""How much power a host draws at a load (R-I4 energy, R-G3 figures).

A host's power model is either the linear one of its idle and peak watts, or, where the
operator has measured it, an 11-point curve in the style of SPECpower_ssj2008: the watts at
0 %, 10 %, … 100 % CPU load, interpolated linearly between points. Real servers draw a
concave curve — most of the climb comes at low load — so the linear model misjudges how
much is saved by moving load off a host and emptying it.
"""

import math

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from zhengyun.infrastructure.drivers.base import linear_power

CURVE_POINTS = 11


def validate_power_curve(value):
    """Empty, or 11 positive watt figures that never fall as the load rises."""
    if value in (None, []):
        return
    if (
        not isinstance(value, list)
        or len(value) != CURVE_POINTS
        or not all(
            isinstance(w, int | float) and not isinstance(w, bool) and math.isfinite(w)
            for w in value
        )
    ):
        raise ValidationError(
            _("Give 11 figures in watts: at 0 %, 10 %, … 100 % load, or none at all.")
        )
    if any(w <= 0 for w in value):
        raise ValidationError(_("Every figure of the power curve must be more than 0 W."))
    if any(b < a for a, b in zip(value, value[1:], strict=False)):
        raise ValidationError(_("A power curve never falls as the load rises."))


def curve_power(curve, load):
    """Watts at ``load`` (0–1) by the 11-point ``curve``, linear between its points."""
    position = min(max(load, 0.0), 1.0) * (CURVE_POINTS - 1)
    low = min(int(position), CURVE_POINTS - 2)
    return curve[low] + (curve[low + 1] - curve[low]) * (position - low)


def host_power(host, load):
    """Watts ``host`` (a ``Host``) draws at CPU ``load`` (0–1): none in standby, by its
    curve when it has one, by its idle and peak watts otherwise."""
    if host.standby:
        return 0.0
    if host.power_curve:
        return curve_power(host.power_curve, load)
    return linear_power(host.idle_watts, host.peak_watts, load)
