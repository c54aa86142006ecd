"""Infrastructure services (R-I1–R-I4): the region's hosts pooled into zones and pools,
virtual machines placed on them by an explainable, energy-aware scheduler, through
pluggable drivers (a simulator by default, libvirt for real hypervisors)."""
