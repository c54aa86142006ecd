"""Organisations: the region tree, departments (政务部门), vertical lines (条), service providers
and the operator of this platform instance (R-N1, R-N4, R-E1, R-E2)."""
