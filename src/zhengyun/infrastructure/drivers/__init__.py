"""Compute drivers (R-I1, R-I3, R-I4): one abstract interface to a hypervisor, found by entry
point (design rule 4), with a simulator as the embedded default and libvirt for real hosts."""
